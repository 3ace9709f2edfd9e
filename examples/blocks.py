import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.fc = nn.Linear(width, width)
        self.drop = nn.Dropout(0.1)

    def forward(self, h):
        return h + self.drop(F.gelu(self.fc(self.norm(h))))


class Net(nn.Module):
    def __init__(self, width, depth):
        super().__init__()
        self.blocks = nn.ModuleList([Block(width) for _ in range(depth)])
        self.head = nn.Linear(width, 1)

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return self.head(x)


model = Net(4, depth=2)
model.eval()  # dropout is the identity
loss = model(x).pow(2).mean()
for name, p in model.named_parameters():
    if "weight" in name and "norm" not in name:
        loss = loss + 1e-4 * (p ** 2).sum()
loss.backward()
