/*
 * What a call spec (tests/equivalence/calls/FIXTURE/FILE.c) is written with.
 * harness.c includes the fixture's source, then this, then the call spec;
 * the spec defines `equiv_calls`, one EQ_CALL block per call:
 *
 *   EQ_CALL {
 *       PyArrayObject *a = EQ_ARRAY(3, 4);
 *       PyObject *out = NULL;
 *       EQ_OBJ(make_view(a, a, &out));
 *       EQ_SEE("out", out);
 *   }
 *
 * EQ_ARRAY(d0, d1, ...)  a new C-contiguous float64 array holding 0, 1, 2, ...;
 *                        its shape, strides and values are recorded after the call
 * EQ_INT(f(...))         call f, record its integer result (and any error set)
 * EQ_OBJ(f(...))         call f, record its object result, or NULL and the error
 * EQ_UNINIT(f(...))      as EQ_OBJ, for an array whose values are not defined
 *                        (PyArray_Empty, a constructor given no data)
 * EQ_VOID(f(...))        call a function that returns nothing
 * EQ_SEE("name", obj)    record one more object after the call (an out-parameter)
 *
 * The same block runs once against the original and once against the
 * rewritten function, each time on arrays it makes afresh; the test compares
 * the records. Every object is leaked on purpose: the process is short, and
 * nothing a fixture does to a reference count can free an array still
 * recorded.
 */
#include <Python.h>
#include <numpy/arrayobject.h>

static PyObject *equiv_sink;   /* the driver's callable: takes one record */
static PyObject *equiv_record; /* the record of the call being made */

static inline void
equiv_die(const char *what)
{
    fprintf(stderr, "equivalence harness: %s\n", what);
    if (PyErr_Occurred()) {
        PyErr_Print();
    }
    fflush(stderr);
    abort();
}

static inline void
equiv_append(const char *list, PyObject *item)
{
    if (item == NULL || PyList_Append(PyDict_GetItemString(equiv_record, list), item) < 0) {
        equiv_die("cannot record a result");
    }
}

static inline int
equiv_begin(int line)
{
    equiv_record = Py_BuildValue("{s:i,s:[],s:[],s:[]}", "line", line, "results", "arrays",
                                 "seen");
    if (equiv_record == NULL) {
        equiv_die("cannot start a record");
    }
    return 1;
}

static inline int
equiv_end(void)
{
    if (PyErr_Occurred()) {
        equiv_die("an error is left set after the call");
    }
    if (PyObject_CallOneArg(equiv_sink, equiv_record) == NULL) {
        equiv_die("the driver refused a record");
    }
    equiv_record = NULL;
    return 0;
}

#define EQ_CALL for (int equiv_once = equiv_begin(__LINE__); equiv_once; equiv_once = equiv_end())

static inline PyArrayObject *
equiv_array(int nd, npy_intp *shape)
{
    PyArrayObject *a = (PyArrayObject *)PyArray_SimpleNew(nd, shape, NPY_DOUBLE);
    if (a == NULL || equiv_record == NULL) {
        equiv_die("cannot make an array (outside EQ_CALL?)");
    }
    double *data = (double *)PyArray_DATA(a);
    for (npy_intp i = 0; i < PyArray_SIZE(a); i++) {
        data[i] = (double)i;
    }
    equiv_append("arrays", (PyObject *)a);
    return a;
}

#define EQ_ARRAY(...)                                                                      \
    equiv_array((int)(sizeof((npy_intp[]){__VA_ARGS__}) / sizeof(npy_intp)),               \
                (npy_intp[]){__VA_ARGS__})

/* The error set, if any, as (type name, message); cleared. */
static inline PyObject *
equiv_take_error(void)
{
    if (!PyErr_Occurred()) {
        Py_RETURN_NONE;
    }
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    PyObject *message = value != NULL ? PyObject_Str(value) : PyUnicode_FromString("");
    if (message == NULL) {
        equiv_die("cannot read an error message");
    }
    return Py_BuildValue("(sO)", ((PyTypeObject *)type)->tp_name, message);
}

static inline void
equiv_result(const char *call, const char *kind, PyObject *value)
{
    PyObject *error = equiv_take_error();
    int null = value == NULL;
    equiv_append("results",
                 Py_BuildValue("{s:s,s:s,s:O,s:O,s:O}", "call", call, "kind", kind, "value",
                               null ? Py_None : value, "null", null ? Py_True : Py_False,
                               "error", error));
}

static inline void
equiv_int(const char *call, long long value)
{
    equiv_result(call, "int", PyLong_FromLongLong(value));
}

#define EQ_INT(call) equiv_int(#call, (long long)(call))
#define EQ_OBJ(call) equiv_result(#call, "object", (PyObject *)(call))
#define EQ_UNINIT(call) equiv_result(#call, "uninitialised", (PyObject *)(call))
#define EQ_VOID(call) ((call), equiv_result(#call, "void", Py_None))
#define EQ_SEE(name, obj)                                                                  \
    equiv_append("seen", Py_BuildValue("(sO)", (name), (obj) ? (PyObject *)(obj) : Py_None))

static void equiv_calls(void);

/* Called by the driver, holding the GIL. */
int
equiv_main(PyObject *sink)
{
    if (_import_array() < 0) {
        equiv_die("cannot import numpy's C API");
    }
    equiv_sink = sink;
    equiv_calls();
    return 0;
}
