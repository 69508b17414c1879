/*
 * fixtures/manual-other-names: each function reaches its array by
 * another name in the window. The first calls of each make that name the
 * same array (the original sees the temporary shape); the others use a
 * different array, where the two agree.
 */

/* The container's reader that f_use_ops hands `ops` to. */
npy_intp
use_ops(PyArrayObject **ops)
{
    return PyArray_DIM(ops[0], 0);
}

/* A holder object whose repr shows the array it holds. */
static PyObject *
holder_repr(PyObject *self)
{
    return PyUnicode_FromFormat("holder(%R)", (PyObject *)((holder *)self)->arr);
}

static holder *
new_holder(PyArrayObject *arr)
{
    static PyType_Slot slots[] = {{Py_tp_repr, (void *)holder_repr}, {0, NULL}};
    static PyType_Spec spec = {"equivalence.holder", sizeof(holder), 0, Py_TPFLAGS_DEFAULT,
                               slots};
    static PyObject *type;
    if (type == NULL && (type = PyType_FromSpec(&spec)) == NULL) {
        equiv_die("cannot make the holder type");
    }
    holder *h = PyObject_New(holder, (PyTypeObject *)type);
    if (h == NULL) {
        equiv_die("cannot make a holder");
    }
    Py_INCREF(arr);
    h->arr = arr;
    return h;
}

static void
equiv_calls(void)
{
    EQ_CALL {
        PyArrayObject *ops[1] = {EQ_ARRAY(3, 4)};
        EQ_INT(f_ops(ops, 1));
    }
    EQ_CALL {
        PyArrayObject *ops[2] = {EQ_ARRAY(2, 3, 4), EQ_ARRAY(3, 4)};
        EQ_INT(f_ops(ops, 0));
    }

    EQ_CALL { EQ_OBJ(f_self((PyObject *)EQ_ARRAY(3, 4), 1)); }
    EQ_CALL { EQ_OBJ(f_self((PyObject *)EQ_ARRAY(2, 3, 4), 1)); }

    EQ_CALL {
        PyArrayObject *a = EQ_ARRAY(3, 4);
        EQ_INT(f_deref(&a, 2));
    }
    EQ_CALL {
        PyArrayObject *a = EQ_ARRAY(2, 3, 4);
        EQ_INT(f_deref(&a, 1));
    }

    EQ_CALL {
        struct ctx c = {EQ_ARRAY(3, 4), 0};
        EQ_INT(f_ctx(&c, 1));
        EQ_SEE("ctx.calls", PyLong_FromSsize_t(c.calls));
    }

    EQ_CALL { EQ_OBJ(f_holder(new_holder(EQ_ARRAY(3, 4)), 1)); }
    EQ_CALL { EQ_OBJ(f_holder(new_holder(EQ_ARRAY(2, 3, 4)), 0)); }

    EQ_CALL {
        PyArrayObject *ops[1] = {EQ_ARRAY(3, 4)};
        EQ_INT(f_ops_size(ops, 0, 1));
    }
    EQ_CALL {
        PyArrayObject *ops[2] = {EQ_ARRAY(3, 4), EQ_ARRAY(2, 3, 4)};
        EQ_INT(f_ops_size(ops, 1, 1));
    }

    EQ_CALL {
        PyArrayObject *ops[1] = {EQ_ARRAY(3, 4)};
        EQ_INT(f_use_ops(ops, 2));
    }

    EQ_CALL { EQ_OBJ(f_check_axis(EQ_ARRAY(3, 4), 0, 1)); }
    EQ_CALL { EQ_OBJ(f_check_axis(EQ_ARRAY(3, 4), 1, 2)); }
    EQ_CALL { EQ_OBJ(f_check_axis(EQ_ARRAY(2, 3, 4), -1, 1)); }
    EQ_CALL { EQ_OBJ(f_check_axis(EQ_ARRAY(3, 4), 2, 1)); }

    EQ_CALL {
        PyArrayObject *a = EQ_ARRAY(3, 4);
        EQ_OBJ(f_second_param(a, a, 1));
    }
    EQ_CALL { EQ_OBJ(f_second_param(EQ_ARRAY(2, 3, 4), EQ_ARRAY(3, 4), 1)); }

    EQ_CALL { EQ_INT(f_memcpy_pointer(EQ_ARRAY(3, 4), 1)); }

    EQ_CALL {
        PyArrayObject *a = EQ_ARRAY(3, 4);
        set_current(a);
        EQ_INT(f_global(a, 1));
    }
    EQ_CALL {
        set_current(EQ_ARRAY(3, 4));
        EQ_INT(f_global(EQ_ARRAY(2, 3, 4), 1));
    }

    EQ_CALL { EQ_INT(f_header_macro(EQ_ARRAY(3, 4), 1)); }
    EQ_CALL { EQ_INT(f_include(EQ_ARRAY(2, 3, 4), 1)); }

    EQ_CALL {
        PyArrayObject *ops[1] = {EQ_ARRAY(3, 4)};
        EQ_OBJ(f_return_ops(ops, 1));
    }
}
