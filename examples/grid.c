/*
 * A small C extension module's array helpers, one of each kind of shape
 * write dims-fix finds. Run `dims-fix examples/` on it: the diff shows
 * the rewrite and the lock TODO, the report lists every finding.
 */
#include <Python.h>
#include "numpy/arrayobject.h"

/*
 * rewrite: the shape is changed for a moment and put back (the pattern of
 * numpy#28197). Another thread reading `grid`'s shape meanwhile sees the
 * wrong one; a local copy removes the race.
 */
static PyObject *
grid_stack_copies(PyArrayObject *grid, npy_intp copies)
{
    npy_intp rows = PyArray_DIM(grid, 0);
    PyArrayObject *out;

    PyArray_DIMS(grid)[0] = rows * copies;
    Py_INCREF(PyArray_DESCR(grid));
    out = (PyArrayObject *)PyArray_NewFromDescr(
            &PyArray_Type, PyArray_DESCR(grid), PyArray_NDIM(grid),
            PyArray_DIMS(grid), NULL, NULL, 0, NULL);
    PyArray_DIMS(grid)[0] = rows;
    return (PyObject *)out;
}

/*
 * lock: a setter changes the live array's shape for good, and says so by
 * replacing its metadata. A copy cannot help: the change needs a lock.
 */
static int
grid_set_rows(PyArrayObject *grid, npy_intp rows)
{
    if (rows > PyArray_DIM(grid, 0)) {
        PyErr_SetString(PyExc_ValueError, "cannot grow a grid in place");
        return -1;
    }
    ((PyArrayObject_fields *)grid)->nd = 2;
    PyArray_DIMS(grid)[0] = rows;
    return 0;
}

/*
 * fresh: the array is made here and nobody else has seen it yet; writing
 * its shape is safe.
 */
static PyObject *
grid_empty_row(npy_intp cols)
{
    npy_intp shape[2] = {1, cols};
    PyArrayObject *row = (PyArrayObject *)PyArray_SimpleNew(2, shape, NPY_DOUBLE);
    if (row == NULL) {
        return NULL;
    }
    PyArray_DIMS(row)[0] = 0;
    return (PyObject *)row;
}

/*
 * manual: the shape is put back, but an early return skips the restore,
 * so dims-fix cannot prove a rewrite keeps behaviour; a person decides.
 */
static PyObject *
grid_first_rows(PyArrayObject *grid, npy_intp n)
{
    npy_intp rows = PyArray_DIM(grid, 0);
    PyObject *view;

    PyArray_DIMS(grid)[0] = n;
    view = PyArray_NewCopy(grid, NPY_CORDER);
    if (view == NULL) {
        return NULL;
    }
    PyArray_DIMS(grid)[0] = rows;
    return view;
}
