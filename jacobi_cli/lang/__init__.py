"""Text to graph: the expression language and the values bound to it.

``functions`` (the names users call and how each lowers to ops; ``scatter`` adds the writing
functions to its table), ``parser`` (``ast`` to
graph, whitelisted, no recursion), ``bindings`` (``NAME=VALUE``, ``NAME=@file``,
``NAME:SHAPE``), ``fileio`` (files read and written safely) and ``deep`` (a big-stack
thread for deep inputs). Builds on :mod:`jacobi_cli.ir` only.
"""

from . import scatter  # noqa: E402,F401  (registers the scatter and index-writing functions in the table)
from . import modules  # noqa: E402,F401  (registers torch.nn's modules without parameters: nn.MSELoss())
from . import sampling  # noqa: E402,F401  (registers F.affine_grid and F.grid_sample)
from . import scipylinalg  # noqa: E402,F401  (registers scipy.linalg: cho_factor, solve(assume_a=...), ...)
from . import jaxnames  # noqa: E402,F401  (registers jax.nn's, jax.lax's and scipy.special's own spellings)
from . import laxnames  # noqa: E402,F401  (registers more of jax.lax: slices, pad, sort, dot_general)
from . import laxmore  # noqa: E402,F401  (registers the rest of jax.scipy.special read in session 27: boxcox, comb)
from . import scipynames  # noqa: E402,F401  (registers more of scipy.special: the gamma family, comb, exprel)
from . import recurrent  # noqa: E402,F401  (registers F.multi_head_attention_forward; nn.LSTM and the like)
from . import transformer  # noqa: E402,F401  (registers nn.TransformerEncoderLayer and its kin, session 55)
from . import devices  # noqa: E402,F401  (registers torch.device and torch.cuda.is_available: the CPU)
from . import index_tuples  # noqa: E402,F401  (registers np.tril_indices_from, np.indices, ...: index tuples)
from . import pasted  # noqa: E402,F401  (registers what users paste: removed torch names, is_tensor, result_type)
from . import attention  # noqa: E402,F401  (registers jax.nn.dot_product_attention, session 28)
from . import convhelpers  # noqa: E402,F401  (registers jax.lax.conv_transpose and the conv shape helpers, session 28)
from . import specials28  # noqa: E402,F401  (registers jax.scipy.special / scipy.special expi, exp1, dawsn)
from . import specials29  # noqa: E402,F401  (registers scipy.special Bessel, betainc, fresnel... session 29)
from . import gathers  # noqa: E402,F401  (registers jax.lax.gather and the scatters by dimension numbers, session 28)
from . import names29  # noqa: E402,F401  (registers the last pasted names, session 29: lax.cummax, np.require)
from . import names30  # noqa: E402,F401  (registers JAX's set functions with size=, session 30)
from . import specials30  # noqa: E402,F401  (registers scipy.special's Gauss quadrature rules, session 30)
from . import specials36  # noqa: E402,F401  (registers the rest of scipy.special, session 36: kelvin, airy, ellipj)
from . import specials37  # noqa: E402,F401  (registers Carlson's elliptic integrals, diric, eval_jacobi: session 37)
from . import specials38  # noqa: E402,F401  (registers zeta as SciPy and JAX spell it, zetac: session 38)
from . import specials39  # noqa: E402,F401  (registers gammainc / gammaincc as SciPy and JAX spell them: session 39)
from . import distributions  # noqa: E402,F401  (registers torch.distributions and jax.scipy / scipy.stats, session 33)
from . import names34  # noqa: E402,F401  (registers scipy.spatial.distance, sliding_window_view, np.polynomial's Gauss rules)
from . import names35  # noqa: E402,F401  (registers session 35's names: torch.as_strided, x.compress, refusals saying why)
from . import names41  # noqa: E402,F401  (registers session 41's: torch.kl_div's int reduction, atleast_1d(x, y), ...)
from . import names52  # noqa: E402,F401  (registers session 52's: np.full_like of an input fill, jnp.nextafter's refusal)
from . import jaximage  # noqa: E402,F401  (registers jax.image.resize: JAX's weight matrices, session 54)
from . import fourier  # noqa: E402,F401  (registers torch.fft / np.fft / jnp.fft and complex values, session 36)
from . import pymath  # noqa: E402,F401  (registers Python's math module: its own answers of known numbers)
from . import setparams  # noqa: E402,F401  (registers nn.init.calculate_gain and nn.init in expressions, session 52)
