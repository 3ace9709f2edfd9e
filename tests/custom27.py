"""The texts of derivative rules written by hand that tests/test_custom27.py and test_parity_custom27.py share
(lang/custom.py): PyTorch's tutorials' autograd.Functions and JAX's custom_vjp examples, a rule deliberately wrong,
a backward not linear in its gradient, several inputs and outputs."""

EXP = """import torch
class Exp(torch.autograd.Function):
    @staticmethod
    def forward(ctx, i):
        result = i.exp()
        ctx.save_for_backward(result)
        return result
    @staticmethod
    def backward(ctx, grad_output):
        result, = ctx.saved_tensors
        return grad_output * result
"""
WRONG_EXP = """import torch
class WrongExp(torch.autograd.Function):
    @staticmethod
    def forward(ctx, i):
        ctx.save_for_backward(i)
        return torch.exp(i)
    @staticmethod
    def backward(ctx, g):
        i, = ctx.saved_tensors
        return 2 * g * torch.exp(i)
"""
LEGENDRE = """import torch
class LegendrePolynomial3(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input ** 3 - 3 * input)
    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input ** 2 - 1)
"""
MY_RELU = """import torch
class MyReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return input.clamp(min=0)
    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        return torch.where(input < 0, 0.0, grad_output)
"""
CLIP = """import torch
class ClipGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.clone()
    @staticmethod
    def backward(ctx, g):
        return g.clamp(-0.3, 0.3)
"""
STE = """import torch
class RoundSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return torch.round(x * 4)
    @staticmethod
    def backward(ctx, g):
        return g * 4
"""
MUL_CONST = """import torch
class MulConst(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, k):
        ctx.k = k
        return x * k
    @staticmethod
    def backward(ctx, g):
        return g * ctx.k, None
"""
NEEDS = """import torch
class Mul(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y
    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        gx = gy = None
        if ctx.needs_input_grad[0]:
            gx = g * y
        if ctx.needs_input_grad[1]:
            gy = g * x
        return gx, gy
"""
SETUP = """import torch
class Cube(torch.autograd.Function):
    @staticmethod
    def forward(x):
        return x ** 3
    @staticmethod
    def setup_context(ctx, inputs, output):
        x, = inputs
        ctx.save_for_backward(x)
    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return 3 * g * x ** 2
"""
SIN_COS = """import torch
class SinCos(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.sin(x), torch.cos(x)
    @staticmethod
    def backward(ctx, gs, gc):
        x, = ctx.saved_tensors
        return gs * torch.cos(x) - 2 * gc * torch.sin(x)
"""
SOFT = """import torch
class Soft(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        e = torch.exp(x)
        ctx.save_for_backward(e)
        return torch.log1p(e)
    @staticmethod
    def backward(ctx, g):
        e, = ctx.saved_tensors
        return g * e / (1 + e)
"""
ONCE = """import torch
from torch.autograd.function import once_differentiable
class Sq(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x
    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return 2 * g * x
"""

JAX_SIN = """import jax
import jax.numpy as jnp
@jax.custom_vjp
def f(x, y):
    return jnp.sin(x) * y
def f_fwd(x, y):
    return f(x, y), (jnp.cos(x), jnp.sin(x), y)
def f_bwd(res, g):
    cos_x, sin_x, y = res
    return (cos_x * g * y, sin_x * g)
f.defvjp(f_fwd, f_bwd)
"""
JAX_CLIP = """import jax
import jax.numpy as jnp
from functools import partial
@partial(jax.custom_vjp, nondiff_argnums=(0, 1))
def clip_gradient(lo, hi, x):
    return x
def clip_gradient_fwd(lo, hi, x):
    return x, None
def clip_gradient_bwd(lo, hi, _, g):
    return (jnp.clip(g, lo, hi),)
clip_gradient.defvjp(clip_gradient_fwd, clip_gradient_bwd)
"""
JAX_LOG1PEXP = """import jax
import jax.numpy as jnp
def log1pexp(x):
    return jnp.log1p(jnp.exp(x))
log1pexp = jax.custom_vjp(log1pexp)
def fwd(x):
    return log1pexp(x), x
def bwd(x, g):
    return (g * (1 - 1 / (1 + jnp.exp(x))),)
log1pexp.defvjp(fwd, bwd)
"""
JAX_WRONG = """import jax
import jax.numpy as jnp
@jax.custom_vjp
def s(x):
    return jnp.sin(x)
def s_fwd(x):
    return jnp.sin(x), jnp.cos(x)
def s_bwd(c, g):
    return (2.0 * c * g,)
s.defvjp(s_fwd, s_bwd)
"""
JVP_LOG1PEXP = """import jax
import jax.numpy as jnp
@jax.custom_jvp
def log1pexp(x):
    return jnp.log(1. + jnp.exp(x))
@log1pexp.defjvp
def log1pexp_jvp(primals, tangents):
    x, = primals
    x_dot, = tangents
    ans = log1pexp(x)
    ans_dot = (1 - 1 / (1 + jnp.exp(x))) * x_dot
    return ans, ans_dot
"""
JVP_WRONG = """import jax
import jax.numpy as jnp
@jax.custom_jvp
def c(x):
    return jnp.cos(x)
@c.defjvp
def c_jvp(primals, tangents):
    x, = primals
    t, = tangents
    return jnp.cos(x), jnp.sin(x) * t
"""
JVPS_TWO = """import jax
import jax.numpy as jnp
def g(x, y):
    return jnp.sin(x) * y
g = jax.custom_jvp(g)
g.defjvps(lambda t, ans, x, y: jnp.cos(x) * t * y, lambda t, ans, x, y: 3.0 * jnp.sin(x) * t)
"""
