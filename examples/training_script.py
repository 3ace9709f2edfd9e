import torch
import torch.nn as nn

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")  # the CPU here


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 8))
        self.head = nn.Linear(8, 1)

    def forward(self, x):
        return self.head(self.body(x))


model = Net().to(device)
loss = model(x.to(device)).pow(2).mean()
loss = loss + 1e-3 * sum(m.weight.pow(2).sum() for m in model.modules() if isinstance(m, nn.Linear))
loss.backward()
