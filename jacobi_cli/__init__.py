"""jac: Jacobians, VJPs, JVPs, Hessians and derivative shapes from the shell.

The Python API mirrors the commands and returns NumPy arrays::

    >>> from jacobi_cli import jacobian
    >>> jacobian("x**2", {"x": [2.0, 3.0]})["x"]
    array([[4., 0.],
           [0., 6.]])
"""

__version__ = "0.1.0"
__all__ = ["evaluate", "jacobian", "plan", "vjp", "jvp", "hessian", "derivative", "diff", "compile", "__version__"]


def __getattr__(name):
    # Imported on first use, so `import jacobi_cli` stays cheap for the CLI.
    if name in __all__:
        from .tools import api

        value = globals()[name] = getattr(api, name)  # found once: later calls skip this function
        return value
    raise AttributeError(f"module 'jacobi_cli' has no attribute {name!r}")
