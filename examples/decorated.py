import jax
import jax.numpy as jnp
from functools import partial


@partial(jax.vmap, in_axes=(0, None))
@partial(jax.grad, argnums=1)
def per_example_grad(xi, w):
    return jnp.sum(xi * w) ** 2


per_example_grad(X, w)
