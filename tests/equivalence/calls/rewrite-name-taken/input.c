/*
 * fixtures/rewrite-name-taken: resized_like(arr, dims). The caller may hand
 * in the array's own shape as `dims`.
 */
static void
equiv_calls(void)
{
    EQ_CALL {
        npy_intp two[1] = {2};
        PyArray_Dims dims = {two, 1};
        EQ_OBJ(resized_like(EQ_ARRAY(3, 4), &dims));
    }
    EQ_CALL {
        npy_intp five[1] = {5};
        PyArray_Dims dims = {five, 1};
        EQ_OBJ(resized_like(EQ_ARRAY(2, 3, 4), &dims));
    }
    EQ_CALL {
        PyArrayObject *a = EQ_ARRAY(3, 4);
        PyArray_Dims dims = {PyArray_DIMS(a), PyArray_NDIM(a)};
        EQ_OBJ(resized_like(a, &dims));
    }
}
