import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(3, 2), nn.Tanh(), nn.Linear(2, 1))
with torch.no_grad():
    model[0].weight.copy_(torch.tensor([[1.0, 0.0, -1.0], [0.5, 2.0, 0.0]]))
    model[0].bias.zero_()
    model[2].weight.fill_(0.5)
    model[2].bias.fill_(0.1)

for p in model.parameters():  # freeze everything, then train the head only
    p.requires_grad = False
for p in model[2].parameters():
    p.requires_grad = True

y = model(x).sum()
