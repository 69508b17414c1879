/* fixtures/function-returning-function-pointer: pick(a, &out) returns `done`. */
static void
equiv_calls(void)
{
    EQ_CALL {
        PyObject *out = NULL;
        EQ_INT(pick(EQ_ARRAY(3, 4), &out) == done);
        EQ_SEE("out", out);
    }
    EQ_CALL {
        PyObject *out = NULL;
        EQ_INT(pick(EQ_ARRAY(2, 3, 4), &out) == done);
        EQ_SEE("out", out);
    }
}
