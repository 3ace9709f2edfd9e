"""The everyday names jac still refused with no word of why (session 35), registered in ``functions``' table
when ``lang`` is imported. Each is read as its library computes it, lowered onto the functions and ops jac has
(no op of its own, so the derivatives are those ops' rules), or refused saying why and what to write instead.

- Read: ``torch.as_strided`` / ``as_strided_copy`` / ``x.as_strided`` of an input (a gather of its elements, in
  PyTorch's contiguous storage order; a computed tensor's strides in PyTorch depend on how it was made, so it is
  refused); ``torch.as_strided_scatter`` is refused
  (PyTorch's autograd of it disagrees with central differences of its own values);
  the Tensor methods ``x.is_complex()`` / ``is_conj()`` / ``is_neg()``,
  ``x.nonzero_static(size=)``, ``x.to_dense()`` (a dense tensor is its own), ``x.short()`` / ``x.char()``
  (int16 / int8 casts, as ``x.int()``); NumPy's array methods ``x.argpartition(k)``, ``x.compress(c)``,
  ``x.choose(choices)``, ``x.searchsorted(v)``, ``x.conjugate()`` (NumPy's functions of the same name).
- Refused saying why (``REFUSED``, ``METHODS_REFUSED``): random draws and random state, the process's
  configuration, devices, compilers and threads, sparse / quantized / nested layouts, memory and strides,
  strings, files and dates, the libraries' own dispatch helpers; ``x.fill(v)``, ``x.partition(k)`` and
  ``x.resize(shape)`` as calls (NumPy changes the array in place and returns None).
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import JacNameError
from .functions import LIBRARY_FUNCTIONS, REQUIRED, DType, JacValueError, arguments, as_dtype, \
    library_function, static, static_int, static_ints, tensor, variant
from .functions import _identity  # noqa: PLC2701 - the same identity as x.contiguous()

# -- refused, saying why ----------------------------------------------------------------------------------------

_RANDOM = ("it draws PyTorch's random numbers, which jac does not reproduce (nor differentiate: a draw has no "
           "derivative by the values it is drawn from, only by the parameters it is moved and scaled by): bind "
           "the values as an input (x:3 draws one with --seed; x=[...] gives them), or write the "
           "reparametrized draw, mean + std * eps with eps an input")
_STATE = ("it reads or sets PyTorch's random state, which jac has none of: jac draws torch.rand / torch.randn "
          "with --seed (a different stream from PyTorch's); drop the line")
_CONFIG = ("it reads or sets the configuration of PyTorch's process, which changes no derivative jac computes: "
           "drop the line (the dtype is --dtype; jac computes on the CPU with NumPy)")
_DEVICE = ("it is about devices, compilers, threads or PyTorch's symbolic shapes, none of which jac has (it "
           "computes on the CPU with NumPy, in one thread): drop it, or write the computation it wraps")
_SPARSE = ("jac's arrays are dense and real: sparse, quantized and mkldnn layouts are ways PyTorch stores a tensor, "
           "and a quantized one rounds its values; write the dense computation (A @ x for a sparse product)")
_BACKEND = ("it is a backend kernel of PyTorch (cuDNN, MIOpen, fbgemm, oneDNN) or a piece of a batch norm's "
            "kernels, called by PyTorch itself: write the function it implements (F.conv2d, F.batch_norm, "
            "F.linear, F.grid_sample, nn.LSTM, ...)")
_IO = ("it reads or writes files, bytes or strings, which is no computation to differentiate: bind arrays from "
       "files as inputs (x=@data.npy, x=@data.csv) and print with jac's output (--json, --out FILE)")
_INTERNAL = ("it is a helper of PyTorch's own code (TorchScript, __torch_function__ dispatch, argument checks), "
             "not a computation: drop it")
_NP_CONFIG = ("it reads or sets NumPy's configuration (printing, floating-point error handling, buffers) or "
              "describes the installation, which changes no derivative jac computes: drop the line")
_NP_DTYPE = ("it answers a question about NumPy's dtypes or memory, and jac holds every array in one float dtype "
             "(--dtype) in memory of its own: write the computation; np.result_type and np.isdtype are read")
_DATES = "jac has no datetime or string arrays (its arrays hold real numbers)"
_BITS = ("jac's arrays hold numbers, not bits: write the computation on the numbers ((x > 0) for a mask, "
         "x * 2 ** k for a shift)")

_TORCH = {
    **{n: _RANDOM for n in ("bernoulli", "binomial", "multinomial", "normal", "poisson", "randint", "randint_like",
                            "randperm", "native_dropout", "feature_dropout")},
    **{n: _STATE for n in ("manual_seed", "seed", "initial_seed", "get_rng_state", "set_rng_state",
                           "thread_safe_generator", "Generator")},
    "set_default_dtype": ("it is read as a statement of its own only (torch.set_default_dtype(torch.float64): the "
                          "dtype PyTorch's constructors make from that line on, float64 or float32; jac computes in "
                          "--dtype), not as a value"),
    **{n: _CONFIG for n in ("are_deterministic_algorithms_enabled", "get_default_dtype",
                            "set_default_tensor_type", "get_deterministic_debug_mode", "set_deterministic_debug_mode",
                            "get_float32_matmul_precision", "set_float32_matmul_precision", "set_flush_denormal",
                            "is_anomaly_check_nan_enabled", "is_anomaly_enabled", "set_anomaly_enabled",
                            "is_deterministic_algorithms_warn_only_enabled", "use_deterministic_algorithms",
                            "is_grad_enabled", "is_inference", "is_inference_mode_enabled", "is_warn_always_enabled",
                            "set_warn_always", "set_printoptions", "get_default_device", "set_default_device",
                            "get_file_path", "compiled_with_cxx11_abi", "prepare_multiprocessing_environment")},
    **{n: _DEVICE for n in ("autocast_decrement_nesting", "autocast_increment_nesting", "clear_autocast_cache",
                            "get_autocast_cpu_dtype", "get_autocast_dtype", "get_autocast_gpu_dtype",
                            "get_autocast_ipu_dtype", "get_autocast_xla_dtype", "is_autocast_cache_enabled",
                            "is_autocast_cpu_enabled", "is_autocast_enabled", "is_autocast_ipu_enabled",
                            "is_autocast_xla_enabled", "set_autocast_cache_enabled", "set_autocast_cpu_dtype",
                            "set_autocast_cpu_enabled", "set_autocast_dtype", "set_autocast_enabled",
                            "set_autocast_gpu_dtype", "set_autocast_ipu_dtype", "set_autocast_ipu_enabled",
                            "set_autocast_xla_dtype", "set_autocast_xla_enabled", "get_device", "get_device_module",
                            "get_num_interop_threads", "get_num_threads", "init_num_threads", "set_num_interop_threads",
                            "set_num_threads", "is_distributed", "is_vulkan_available", "cudnn_is_acceptable",
                            "fork", "wait", "from_dlpack", "to_dlpack", "profiler_allow_cudagraph_cupti_lazy_reinit_cuda12",
                            "sym_constrain_range", "sym_constrain_range_for_size", "sym_float", "sym_fresh_size",
                            "sym_int", "sym_ite", "sym_max", "sym_min", "sym_not", "sym_sqrt", "sym_sum")},
    **{n: _SPARSE for n in ("ccol_indices_copy", "col_indices_copy", "crow_indices_copy", "row_indices_copy",
                            "indices_copy", "values_copy", "choose_qparams_optimized", "dequantize", "empty_quantized",
                            "fake_quantize_per_channel_affine", "fake_quantize_per_tensor_affine",
                            "fused_moving_avg_obs_fake_quant", "int_repr", "is_storage", "q_per_channel_axis",
                            "q_per_channel_scales", "q_per_channel_zero_points", "q_scale", "q_zero_point",
                            "quantize_per_channel", "quantize_per_tensor", "quantize_per_tensor_dynamic",
                            "quantized_batch_norm", "quantized_gru", "quantized_gru_cell", "quantized_lstm",
                            "quantized_lstm_cell", "quantized_max_pool1d", "quantized_max_pool2d",
                            "quantized_max_pool3d", "quantized_rnn_relu_cell", "quantized_rnn_tanh_cell",
                            "sparse_bsc_tensor", "sparse_bsr_tensor", "sparse_compressed_tensor", "sparse_coo_tensor",
                            "sparse_csc_tensor", "sparse_csr_tensor", "dsmm", "hsmm", "hspmm", "saddmm", "smm",
                            "spmm", "sspaddmm")},
    **{n: _BACKEND for n in ("cudnn_affine_grid_generator", "cudnn_batch_norm", "cudnn_convolution",
                             "cudnn_convolution_add_relu", "cudnn_convolution_relu", "cudnn_convolution_transpose",
                             "cudnn_grid_sampler", "miopen_batch_norm", "miopen_convolution",
                             "miopen_convolution_add_relu", "miopen_convolution_relu", "miopen_convolution_transpose",
                             "miopen_ctc_loss", "miopen_depthwise_convolution", "miopen_rnn",
                             "mkldnn_adaptive_avg_pool2d", "mkldnn_convolution", "mkldnn_linear_backward_weights",
                             "mkldnn_max_pool2d", "mkldnn_max_pool3d", "mkldnn_rnn_layer", "fbgemm_linear_fp16_weight",
                             "fbgemm_linear_fp16_weight_fp32_activation", "fbgemm_linear_int8_weight",
                             "fbgemm_linear_int8_weight_fp32_activation", "fbgemm_linear_quantize_weight",
                             "fbgemm_pack_gemm_matrix_fp16", "fbgemm_pack_quantized_matrix",
                             "batch_norm_backward_elemt", "batch_norm_backward_reduce", "batch_norm_elemt",
                             "batch_norm_gather_stats", "batch_norm_gather_stats_with_counts", "batch_norm_stats",
                             "batch_norm_update_stats")},
    **{n: _IO for n in ("save", "load", "from_file", "frombuffer", "import_ir_module", "import_ir_module_from_buffer")},
    **{n: _INTERNAL for n in ("classproperty", "merge_type_from_type_comment", "parse_ir", "parse_schema",
                              "parse_type_comment", "unify_type_list", "typename", "has_torch_function",
                              "has_torch_function_unary", "has_torch_function_variadic", "handle_torch_function",
                              "boolean_dispatch", "assert_int_or_pair", "Optional")},
    "empty_strided": ("its values are whatever memory held (uninitialised) and its strides a memory layout jac "
                      "does not keep: write torch.zeros(size) or torch.full(size, v)"),
    "empty_permuted": ("its values are whatever memory held (uninitialised) and its order of axes a memory layout "
                       "jac does not keep: write torch.zeros(size) or torch.full(size, v)"),
    "native_norm": ("it is ATen's norm of a sparse tensor (PyTorch raises for a dense one on the CPU): write "
                    "torch.linalg.vector_norm(x, p, dim, keepdim)"),
    "hash_tensor": "a hash of the bits is no computation on the numbers, and has no derivative",
    "slice_inverse": ("it is an internal of torch.compile's view replay (the tensor it was sliced from): write "
                      "the slice's source itself"),
}

_NUMPY = {
    **{n: _IO for n in ("save", "savez", "savez_compressed", "savetxt", "load", "loadtxt", "genfromtxt", "fromfile",
                        "frombuffer", "fromstring", "fromregex", "array2string", "array_repr", "array_str",
                        "format_float_positional", "format_float_scientific", "base_repr", "binary_repr")},
    **{n: _NP_CONFIG for n in ("get_printoptions", "set_printoptions", "printoptions", "getbufsize", "setbufsize",
                               "geterr", "seterr", "geterrcall", "seterrcall", "show_config", "show_runtime",
                               "get_include", "info", "test", "typename")},
    **{n: _NP_DTYPE for n in ("common_type", "min_scalar_type", "mintypecode", "may_share_memory", "shares_memory",
                              "isfortran", "from_dlpack")},
    **{n: _DATES + ": " + why for n, why in (
        ("isnat", "no NaT to look for (np.isnan(x) is a float array's test)"),
        ("busday_count", "count the days as numbers"), ("busday_offset", "count the days as numbers"),
        ("is_busday", "count the days as numbers"), ("datetime_as_string", "keep times as numbers"),
        ("datetime_data", "keep times as numbers"))},
    **{n: _BITS for n in ("packbits", "unpackbits")},
    "frompyfunc": ("it makes a ufunc of a Python function, which jac does not call: write the function's body "
                   "with NumPy's functions (np.vectorize(f) is read for a function of the text)"),
    "nested_iters": "it makes iterators over an array's elements: write the computation on whole arrays",
}

_HALF = ("jac computes in float64 or float32 (--dtype), so a {} tensor's rounding would be lost and the numbers "
         "differ from PyTorch's; nor has a derivative through it one value there: PyTorch's backward rounds the "
         "gradient to its precision and its forward mode the tangent ((x.half().double() * 3.3).sum(): 3.3008 by "
         "torch.func.jacrev, 3.3 by jacfwd): write x.float() and run with --dtype float32, or x.double()")
_COMPLEX = "jac's arrays are real (float64 or float32) and it has no complex dtype: keep real and imaginary parts apart"
_MEMORY = ("it asks about PyTorch's memory (storage, strides, pointers, pinning), which jac does not keep: its "
           "answers are about values; drop it")
_NOT_NEEDED = "jac computes on the CPU with NumPy (x.cpu() and x.to('cpu') are accepted): drop it"
_AUTOGRAD = ("it changes how PyTorch's autograd or class dispatch treats the tensor; jac computes the derivatives "
             "itself: drop it (a custom backward is a torch.autograd.Function, which jac reads)")

METHODS_REFUSED = {
    **{n: _HALF.format(n) for n in ("half", "bfloat16")},
    **{n: _COMPLEX for n in ("cfloat", "cdouble", "chalf")},
    **{n: _MEMORY for n in ("const_data_ptr", "data_ptr", "dim_order", "element_size", "is_contiguous", "is_pinned",
                            "is_set_to", "is_shared", "pin_memory", "record_stream", "storage", "storage_offset",
                            "storage_type", "stride", "untyped_storage", "new_empty_strided")},
    **{n: _NOT_NEEDED for n in ("ipu", "mtia", "to_device")},
    **{n: _RANDOM for n in ("bernoulli", "multinomial")},
    **{n: _SPARSE for n in ("ccol_indices", "col_indices", "crow_indices", "row_indices", "coalesce", "is_coalesced",
                            "dense_dim", "sparse_dim", "sparse_mask", "to_sparse", "to_sparse_bsc", "to_sparse_bsr",
                            "to_sparse_coo", "to_sparse_csc", "to_sparse_csr", "to_mkldnn", "dequantize",
                            "int_repr", "q_per_channel_axis", "q_per_channel_scales", "q_per_channel_zero_points",
                            "q_scale", "q_zero_point", "qscheme", "smm", "sspaddmm")},
    **{n: _AUTOGRAD for n in ("as_subclass", "register_post_accumulate_grad_hook", "reinforce", "module_load")},
    **{n: f"PyTorch's x.{n}() reads a sparse tensor (of a dense one it raises RuntimeError: \"{n} expected sparse "
          "... layout but got Strided\"); " + _SPARSE for n in ("indices", "values")},
    "index": ("PyTorch's x.index(positions, dims) is functorch's first-class dimensions (without them it raises "
              "TypeError), which jac does not read: index with x[...] or torch.index_select(x, dim, idx); a Python "
              "list's L.index(v), a search, jac does not read either: write the position itself"),
    "to_padded_tensor": "it pads a nested tensor, a layout jac does not make: write F.pad of each part",
    "is_distributed": _DEVICE, "is_inference": _CONFIG, "get_device": _NOT_NEEDED, "hash_tensor": _TORCH["hash_tensor"],
    "slice_inverse": _TORCH["slice_inverse"],
    "byte": ("PyTorch's uint8 cast of a negative or out-of-range float is undefined in C++ (its answer depends on "
             "the machine): write x.long(), or x.long() % 256 for a wrap"),
    "new": "it is PyTorch's legacy constructor (uninitialised for a size): write x.new_zeros(size) or x.new_tensor(data)",
    "new_empty": "its values are whatever memory held (uninitialised): write x.new_zeros(size) or x.new_full(size, v)",
    "resize_as": "it changes the tensor's storage (deprecated in PyTorch): write x.reshape(y.shape) or x.expand_as(y)",
    **{n: "NumPy's x.{0}() {1}: write the computation on the numbers".format(n, what) for n, what in (
        ("byteswap", "swaps the bytes of each element"), ("getfield", "reads the bytes of each element as another "
                                                                     "dtype"),
        ("setfield", "writes bytes into each element"), ("setflags", "sets the array's memory flags"),
        ("tobytes", "gives the array's bytes"))},
    **{n: "NumPy's x.{0}() writes a file or a pickle: {1}".format(n, _IO) for n in ("dump", "dumps", "tofile")},
    "fill": "NumPy's x.fill(v) writes v into every element of x in place and returns None: write "
            "x = np.full_like(x, v)",
    "partition": "NumPy's x.partition(k) reorders x in place and returns None: write x = np.partition(x, k)",
    "resize": "x.resize(shape) changes x's storage in place (NumPy's returns None, PyTorch's is deprecated): write "
              "the reshape or the padding meant (x.reshape(...), np.pad(x, ...))",
    "stft": "jac reads the short-time Fourier transform as the function: write torch.stft(x, n_fft, ..., "
            "return_complex=True)",
    "istft": "jac reads the inverse short-time Fourier transform as the function: write torch.istft(X, n_fft, "
             "...) of the complex spectrogram X",
}


def _refusal(called: str, fname: str, why: str):
    def lower(b, args, kwargs, position):
        raise JacNameError(f"{b.call or called + '.' + fname}: {why}", position)
    lower.__doc__ = f"refused: {why}"
    return lower


for _name, _why in _TORCH.items():
    variant("torch", _name)(_refusal("torch", _name, _why))
for _name, _why in _NUMPY.items():
    variant("numpy", _name)(_refusal("np", _name, _why))
for _name, _why in METHODS_REFUSED.items():
    variant("method", _name)(_refusal("x", _name, _why))
for _name in ("geqrf", "ormqr"):  # x.geqrf(): torch.geqrf's refusal (lang/names29.py)
    variant("method", _name)(LIBRARY_FUNCTIONS[("torch", _name)])


# -- torch.as_strided: a gather in the storage order of a contiguous tensor ----------------------------------------

def _strided_index(b, x, a, fname: str, position) -> np.ndarray:
    """The storage positions of ``x.as_strided(size, stride, storage_offset)``, ``x`` an input (contiguous, offset
    0 in PyTorch), checked as PyTorch checks them."""
    if b.nodes[x.id].op != "input":
        raise JacValueError(f"{fname}: jac reads as_strided of an input only: it indexes PyTorch's storage, whose "
                            f"order for a computed tensor depends on how it was made (x.T * 2 keeps x.T's strides). "
                            f"Write it of the input, or index with x.reshape(-1)[idx], x.unfold(0, k, 1)", position)
    size = static_ints(b, a["size"], f"{fname}'s size", position)
    stride = static_ints(b, a["stride"], f"{fname}'s stride", position)
    offset = 0 if a["storage_offset"] is None else static_int(b, a["storage_offset"], f"{fname}'s storage_offset",
                                                              position)
    if len(size) != len(stride):
        raise JacValueError(f"{fname}: mismatch in length of strides and shape ({len(stride)} and {len(size)}), "
                            f"as PyTorch raises", position)
    if any(n < 0 for n in size) or any(s < 0 for s in stride) or offset < 0:
        raise JacValueError(f"{fname}: negative sizes, strides or offset are refused, as PyTorch refuses them "
                            f"(size {size}, stride {stride}, storage_offset {offset})", position)
    numel = math.prod(x.shape)
    if not all(isinstance(n, int) for n in x.shape):
        raise JacValueError(f"{fname}: needs concrete sizes, not symbolic ones", position)
    need = 0 if 0 in size else offset + sum((n - 1) * s for n, s in zip(size, stride)) + 1
    if need > numel:
        raise JacValueError(f"{fname}: size {size}, stride {stride} and storage_offset {offset} need a storage of "
                            f"{need} elements, and the input holds {numel} (PyTorch raises: out of bounds)",
                            position)
    b.check_size(size, fname, position)
    index = np.full(size, offset, dtype=np.int64)
    for axis, (n, s) in enumerate(zip(size, stride)):
        index += (np.arange(n, dtype=np.int64) * s).reshape((n,) + (1,) * (len(size) - axis - 1))
    return index


def _flat(b, x, position):
    return b.apply("reshape", x, shape=(math.prod(x.shape),), position=position)


def _as_strided(fname: str):
    def lower(b, args, kwargs, position):
        a = arguments(fname, args, kwargs, {"x": REQUIRED, "size": REQUIRED, "stride": REQUIRED,
                                            "storage_offset": None}, position)
        x = tensor(b, a["x"], fname, position)
        index = _strided_index(b, x, a, fname, position)
        return b.apply("getitem", _flat(b, x, position), index=(index,), position=position)
    lower.__doc__ = (f"torch.{fname}(input, size, stride, storage_offset=0) of an input (contiguous in PyTorch): "
                     f"its elements at storage_offset + sum(i_k * stride_k), a gather (overlapping windows add their "
                     f"cotangents, as PyTorch's); of a computed tensor refused (its strides depend on how PyTorch "
                     f"made it)")
    return lower


variant("torch", "as_strided")(variant("method", "as_strided")(_as_strided("as_strided")))
variant("torch", "as_strided_copy")(_as_strided("as_strided_copy"))


_SCATTER = ("PyTorch's autograd of as_strided_scatter disagrees with its own values (its backward, checked against "
            "central differences of torch.as_strided_scatter, keeps the cotangent at positions src overwrote), so "
            "jac has no derivative to match: write the write as an index, y = x.reshape(-1).clone(); "
            "y[idx] = src.reshape(-1); y = y.reshape(x.shape), with idx the storage positions")
variant("torch", "as_strided_scatter")(variant("method", "as_strided_scatter")(
    _refusal("torch", "as_strided_scatter", _SCATTER)))


# -- methods that are a function of the array -------------------------------------------------------------------

def _method_of(library: str, fname: str, swap: bool = False):
    """``x.fname(...)`` as ``library.fname(x, ...)`` (``swap``: the array is the function's second argument, as
    np.compress(condition, a))."""
    def lower(b, args, kwargs, position):
        args = [args[1], args[0], *args[2:]] if swap and len(args) > 1 else list(args)
        if swap and len(args) == 1 and "condition" in kwargs:
            args = [kwargs.pop("condition"), args[0]]
        return library_function(library, fname)(b, args, kwargs, position)
    lower.__doc__ = f"x.{fname}(...): {'np' if library == 'numpy' else library}.{fname} of x"
    return lower


for _name in ("is_complex", "is_conj", "is_neg"):
    variant("method", _name)(_method_of("torch", _name))
variant("method", "nonzero_static")(_method_of("torch.aten", "nonzero_static"))
for _name in ("argpartition", "choose", "searchsorted", "conjugate"):
    variant("method", _name)(_method_of("numpy", _name))
variant("method", "compress")(_method_of("numpy", "compress", swap=True))
variant("method", "to_dense")(_identity("to_dense"))


def _int_cast(fname: str, name: str):
    def lower(b, args, kwargs, position):
        return as_dtype(b, _identity(fname)(b, args, kwargs, position), DType(name, "i", "torch"), position)
    lower.__doc__ = f"PyTorch's x.{fname}(): {name}, toward 0 as x.int() (no derivative)"
    return lower


variant("method", "short")(_int_cast("short", "int16"))
variant("method", "char")(_int_cast("char", "int8"))
