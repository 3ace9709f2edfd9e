import torch
import torch.nn as nn

def loss(pred, target):
    criterion = nn.MSELoss(reduction="sum")
    return criterion(pred, target)
