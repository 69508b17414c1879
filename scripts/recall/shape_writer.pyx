# cython: language_level=3
# Writes to an ndarray's shape and strides through Cython's ndarray type:
# every assignment below must be reported by dims-fix in the generated C.
cimport numpy as cnp

cnp.import_array()


def set_first_dim(cnp.ndarray arr, Py_ssize_t n):
    arr.shape[0] = n


def set_first_stride(cnp.ndarray arr, Py_ssize_t s):
    arr.strides[0] = s


def set_dim_through_pointer(cnp.ndarray arr, Py_ssize_t n):
    cdef cnp.npy_intp *d = arr.shape
    d[1] = n
