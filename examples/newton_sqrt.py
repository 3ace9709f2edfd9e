import torch


def newton_sqrt(a, tol=1e-12):
    x = a.clone()
    while (x * x - a).abs() > tol:
        x = (x + a / x) / 2
    return x
