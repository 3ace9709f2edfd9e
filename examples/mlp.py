import torch
import torch.nn as nn
import torch.nn.functional as F


class MLP(nn.Module):
    def __init__(self, d_in, hidden, classes):
        super().__init__()
        self.fc1 = nn.Linear(d_in, hidden)
        self.fc2 = nn.Linear(hidden, classes)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


model = MLP(3, 16, 4)
loss = F.cross_entropy(model(x), torch.tensor([0, 3, 1, 1, 2, 0, 3, 2]))
loss.backward()
