#!/usr/bin/env python3
"""The engine's C API (gnm/capi/gnm.h) from Python through ctypes (section 4.4).

Usage: test_capi_ctypes.py PATH/TO/libgnm_c.so      (ctest runs it as ch04/ctypes/capi)

ctypes knows nothing of gnm.h: the struct layouts and function signatures below are written out
by hand, as in any FFI, so the test first checks that they agree with the header's documented
layout (72 and 152 bytes, the field offsets). It then multiplies through handles and compares with
a double-precision loop, and forces each kind of error: every failure must come back as a status
code with a message, never as a crash.
"""
import ctypes
import sys
import unittest

GNM_OK, GNM_ERROR_INVALID_ARGUMENT, GNM_ERROR_SHAPE = 0, 1, 2
GNM_NO_TRANSPOSE, GNM_TRANSPOSE = 0, 1
GNM_MAX_DIMS = 8
EPS_F32 = 2.0 ** -23


# [ctypes_structs]
class Shape(ctypes.Structure):
    """gnm_shape: #[repr(C)]-style mirror of the C struct."""
    _fields_ = [("dims", ctypes.c_int64 * GNM_MAX_DIMS), ("ndim", ctypes.c_int32),
                ("reserved", ctypes.c_int32)]


class TensorInfo(ctypes.Structure):
    """gnm_tensor_info."""
    _fields_ = [("data", ctypes.POINTER(ctypes.c_float)), ("numel", ctypes.c_int64),
                ("shape", Shape), ("strides", ctypes.c_int64 * GNM_MAX_DIMS)]
# [ctypes_structs]


def load(path):
    lib = ctypes.CDLL(path)
    tensor = ctypes.c_void_p  # an opaque handle: Python never looks inside
    sig = {
        "gnm_api_version": (ctypes.c_int32, []),
        "gnm_version_string": (ctypes.c_char_p, []),
        "gnm_status_name": (ctypes.c_char_p, [ctypes.c_int32]),
        "gnm_last_error": (ctypes.c_char_p, []),
        "gnm_tensor_create": (ctypes.c_int32, [ctypes.POINTER(Shape), ctypes.POINTER(tensor)]),
        "gnm_tensor_free": (ctypes.c_int32, [tensor]),
        "gnm_tensor_shape": (ctypes.c_int32, [tensor, ctypes.POINTER(Shape)]),
        "gnm_tensor_describe": (ctypes.c_int32, [tensor, ctypes.POINTER(TensorInfo)]),
        "gnm_tensor_fill": (ctypes.c_int32, [tensor, ctypes.c_float]),
        "gnm_tensor_fill_uniform": (ctypes.c_int32,
                                    [tensor, ctypes.c_uint64, ctypes.c_float, ctypes.c_float]),
        "gnm_tensor_write": (ctypes.c_int32,
                             [tensor, ctypes.POINTER(ctypes.c_float), ctypes.c_int64]),
        "gnm_tensor_read": (ctypes.c_int32,
                            [tensor, ctypes.POINTER(ctypes.c_float), ctypes.c_int64]),
        "gnm_sgemm": (ctypes.c_int32, [ctypes.c_int32, ctypes.c_int32, ctypes.c_float, tensor,
                                       tensor, ctypes.c_float, tensor]),
    }
    for name, (restype, argtypes) in sig.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = restype, argtypes
    return lib


LIB = None


def shape_of(*dims):
    s = Shape()
    s.ndim = len(dims)
    for i, d in enumerate(dims):
        s.dims[i] = d
    return s


class Tensor:
    """Owns one handle; freed exactly once (the RAII of section 4.3, in Python)."""

    def __init__(self, *dims):
        self.handle = ctypes.c_void_p()
        status = LIB.gnm_tensor_create(ctypes.byref(shape_of(*dims)), ctypes.byref(self.handle))
        if status != GNM_OK:
            raise RuntimeError(LIB.gnm_last_error().decode())
        self.numel = 1
        for d in dims:
            self.numel *= d

    def read(self):
        buf = (ctypes.c_float * self.numel)()
        assert LIB.gnm_tensor_read(self.handle, buf, self.numel) == GNM_OK, last_error()
        return list(buf)

    def write(self, values):
        buf = (ctypes.c_float * len(values))(*values)
        return LIB.gnm_tensor_write(self.handle, buf, len(values))

    def free(self):
        if self.handle:
            assert LIB.gnm_tensor_free(self.handle) == GNM_OK, last_error()
            self.handle = ctypes.c_void_p()


def last_error():
    return LIB.gnm_last_error().decode()


class CApiFromCtypes(unittest.TestCase):
    def setUp(self):
        self.tensors = []

    def tearDown(self):
        for t in self.tensors:
            t.free()

    def tensor(self, *dims):
        t = Tensor(*dims)
        self.tensors.append(t)
        return t

    def test_layout_matches_the_header(self):
        self.assertEqual(ctypes.sizeof(Shape), 72)
        self.assertEqual(Shape.ndim.offset, 64)
        self.assertEqual(Shape.reserved.offset, 68)
        self.assertEqual(ctypes.sizeof(TensorInfo), 152)
        self.assertEqual(TensorInfo.numel.offset, 8)
        self.assertEqual(TensorInfo.shape.offset, 16)
        self.assertEqual(TensorInfo.strides.offset, 88)

    def test_version(self):
        self.assertEqual(LIB.gnm_api_version(), 1)
        self.assertIn(b"C API 1", LIB.gnm_version_string())
        self.assertEqual(LIB.gnm_status_name(GNM_ERROR_SHAPE), b"GNM_ERROR_SHAPE")

    def test_sgemm_matches_double_precision(self):
        m, k, n = 7, 13, 5
        a, b, c = self.tensor(m, k), self.tensor(k, n), self.tensor(m, n)
        self.assertEqual(LIB.gnm_tensor_fill_uniform(a.handle, 1, -1.0, 1.0), GNM_OK)
        self.assertEqual(LIB.gnm_tensor_fill_uniform(b.handle, 2, -1.0, 1.0), GNM_OK)
        self.assertEqual(LIB.gnm_tensor_fill(c.handle, float("nan")), GNM_OK)
        self.assertEqual(LIB.gnm_sgemm(GNM_NO_TRANSPOSE, GNM_NO_TRANSPOSE, 1.0, a.handle,
                                       b.handle, 0.0, c.handle), GNM_OK, last_error())
        ha, hb, hc = a.read(), b.read(), c.read()
        for i in range(m):
            for j in range(n):
                terms = [ha[i * k + p] * hb[p * n + j] for p in range(k)]
                bound = k * EPS_F32 * sum(abs(t) for t in terms)  # K·eps·Σ|a·b|
                self.assertLessEqual(abs(hc[i * n + j] - sum(terms)), bound)

    def test_describe_gives_a_borrowed_row_major_view(self):
        t = self.tensor(2, 3, 4)
        self.assertEqual(t.write([float(i) for i in range(24)]), GNM_OK)
        info = TensorInfo()
        self.assertEqual(LIB.gnm_tensor_describe(t.handle, ctypes.byref(info)), GNM_OK)
        self.assertEqual(info.numel, 24)
        self.assertEqual(list(info.strides[:3]), [12, 4, 1])
        self.assertEqual(info.data[1 * 12 + 2 * 4 + 3], 23.0)

    def test_errors_are_codes_with_messages(self):
        a, c = self.tensor(2, 3), self.tensor(2, 2)
        self.assertEqual(LIB.gnm_tensor_fill(None, 1.0), GNM_ERROR_INVALID_ARGUMENT)
        self.assertIn("null", last_error())
        self.assertEqual(LIB.gnm_sgemm(GNM_NO_TRANSPOSE, GNM_NO_TRANSPOSE, 1.0, a.handle,
                                       a.handle, 0.0, c.handle), GNM_ERROR_SHAPE)
        self.assertIn("inner dimensions", last_error())
        self.assertEqual(LIB.gnm_sgemm(GNM_TRANSPOSE, GNM_NO_TRANSPOSE, 1.0, a.handle,
                                       a.handle, 0.0, self.tensor(3, 3).handle), GNM_OK)
        self.assertEqual(last_error(), "")
        self.assertEqual(LIB.gnm_sgemm(5, GNM_NO_TRANSPOSE, 1.0, a.handle, a.handle, 0.0,
                                       c.handle), GNM_ERROR_INVALID_ARGUMENT)
        self.assertIn("trans_a", last_error())
        self.assertEqual(a.write([1.0] * 5), GNM_ERROR_SHAPE)  # 5 values for 6 elements
        handle = ctypes.c_void_p(12345)
        self.assertEqual(LIB.gnm_tensor_create(ctypes.byref(shape_of(4, -2)),
                                               ctypes.byref(handle)), GNM_ERROR_SHAPE)
        self.assertIsNone(handle.value, "a failed create sets the handle to NULL")
        self.assertIn("negative", last_error())
        self.assertEqual(LIB.gnm_tensor_create(ctypes.byref(shape_of(2 ** 40, 2 ** 40)),
                                               ctypes.byref(handle)), GNM_ERROR_SHAPE)

    def test_double_free_is_reported_not_performed(self):
        t = Tensor(3)
        raw = t.handle.value
        t.free()
        self.assertEqual(LIB.gnm_tensor_free(ctypes.c_void_p(raw)), GNM_ERROR_INVALID_ARGUMENT)
        self.assertIn("not a live tensor", last_error())
        self.assertEqual(LIB.gnm_tensor_free(None), GNM_OK)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    LIB = load(sys.argv.pop(1))
    unittest.main(verbosity=2)
