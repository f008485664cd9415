/* test_manifest.c - the golden manifest reader: column order free, unknown
 * columns ignored, defaults resolved, every shape rule enforced with the
 * file, row and field named. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/manifest.h"
#include "testutil.h"

static char *dir;

static const char *header = "name,batch,n_heads,n_kv_heads,head_dim,n_q,n_kv,causal,scale,q,k,v,out,atol,rtol\n";

static int read_text(const char *text, golden_case **cases, int *n, attn_err *e)
{
	char p[512];
	snprintf(p, sizeof p, "%s/manifest.csv", dir);
	tu_write(p, text, strlen(text));
	return manifest_read(dir, cases, n, e);
}

static void test_valid(void **state)
{
	(void)state;
	/* columns reordered, an unknown column, quoted fields, empty scale */
	const char *text = "extra,out,k,v,q,name,n_q,n_kv,causal,head_dim,n_kv_heads,n_heads,batch,scale,atol\n"
	                   "zzz,a_out.npy,a_k.npy,a_v.npy,a_q.npy,\"case, one\",3,5,1,16,2,8,2,,\n"
	                   "1,b_out.npy,b_k.npy,b_v.npy,b_q.npy,two,4,4,0,64,1,1,1,0.5,1e-3\n";
	golden_case *c;
	int n;
	attn_err e = {{0}};
	assert_int_equal(read_text(text, &c, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(c[0].name, "case, one");
	assert_int_equal(c[0].shape.batch, 2);
	assert_int_equal(c[0].shape.n_heads, 8);
	assert_int_equal(c[0].shape.n_kv_heads, 2);
	assert_int_equal(c[0].shape.n_q, 3);
	assert_int_equal(c[0].shape.n_kv, 5);
	assert_int_equal(c[0].shape.causal, 1);
	assert_true(fabsf(c[0].shape.scale - 0.25f) < 1e-7f);
	assert_true(c[0].atol == ATTN_F32_ATOL && c[0].rtol == ATTN_F32_RTOL);
	assert_non_null(strstr(c[0].q, "/a_q.npy"));
	assert_true(fabsf(c[1].shape.scale - 0.5f) < 1e-7f);
	assert_true(c[1].atol == 1e-3);
	free(c);

	/* CRLF line ends and a UTF-8 byte order mark, as spreadsheets write */
	const char *crlf = "\xEF\xBB\xBFname,batch,n_heads,n_kv_heads,head_dim,n_q,n_kv,causal,q,k,v,out\r\n"
	                   "x,1,2,1,8,1,4,1,q,k,v,o\r\n";
	assert_int_equal(read_text(crlf, &c, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_string_equal(c[0].name, "x");
	assert_non_null(strstr(c[0].out, "/o"));
	assert_null(strchr(c[0].out, '\r'));
	free(c);
}

static void expect_bad(const char *row, const char *needle)
{
	char text[2048];
	snprintf(text, sizeof text, "%s%s\n", header, row);
	golden_case *c = NULL;
	int n;
	attn_err e = {{0}};
	e.msg[0] = 0;
	int rc = read_text(text, &c, &n, &e);
	if (rc != EXIT_INPUT || !strstr(e.msg, "manifest.csv") || !strstr(e.msg, needle))
		fail_msg("row '%s': rc %d, message '%s' (wanted '%s')", row, rc, e.msg, needle);
	free(c);
}

static void test_bad_rows(void **state)
{
	(void)state;
	expect_bad("a,1,8,3,16,4,4,0,,q,k,v,o,,", "n_kv_heads");
	expect_bad("a,1,8,2,16,5,4,1,,q,k,v,o,,", "n_q");
	expect_bad("a,1,8,2,16,4,4,2,,q,k,v,o,,", "causal");
	expect_bad("a,x,8,2,16,4,4,0,,q,k,v,o,,", "batch");
	expect_bad("a,1,8,2,0,4,4,0,,q,k,v,o,,", "head_dim");
	expect_bad("a,1,8,2,-16,4,4,0,,q,k,v,o,,", "head_dim");
	expect_bad("a,1,8,2,16,4,1099511627776,0,,q,k,v,o,,", "n_kv");
	expect_bad("a,1,8,2,16,4,4,0,abc,q,k,v,o,,", "scale");
	expect_bad("a,1,8,2,16,4,4,0,-1,q,k,v,o,,", "scale");
	expect_bad("a,1,8,2,16,4,4,0,,q,k,v,o,-1,", "atol");
	expect_bad("a,1,8,2,16,4,4,0,,q,k,v,o,,nan", "rtol");
	expect_bad("a,1,8,2,16,4,4,0,,../q.npy,k,v,o,,", "leaves the dataset directory");
	expect_bad("a,1,8,2,16,4,4,0,,/etc/passwd,k,v,o,,", "absolute");
	expect_bad("a,1,8,2,16,4,4,0,,q,,v,o,,", "'k' is empty");
	expect_bad(",1,8,2,16,4,4,0,,q,k,v,o,,", "name");
	expect_bad("a,1,8,2,16,4,4,0,,q,k,v,o", "fields");
	expect_bad("a,1,8,2,16,4,4,0,,q,k,v,o,,\na,1,8,2,16,4,4,0,,q,k,v,o,,", "not unique");
	expect_bad("a,1,8,2,16,4,4,0,,q,k,\"v,o,,", "row 2");
}

/* The ABI 3 columns: read into the shape, each bad value refused naming
 * its field. */
static const char *vheader = "name,batch,n_heads,n_kv_heads,head_dim,n_q,n_kv,causal,q,k,v,out,dtype,window,softcap,"
                             "alibi,sinks,head_dim_v,kv_dtype,q_lens,kv_lens\n";

static void expect_bad_v(const char *row, const char *needle)
{
	char text[2048];
	snprintf(text, sizeof text, "%s%s\n", vheader, row);
	golden_case *c = NULL;
	int n;
	attn_err e = {{0}};
	int rc = read_text(text, &c, &n, &e);
	if (rc != EXIT_INPUT || !strstr(e.msg, "manifest.csv: row 2") || !strstr(e.msg, needle))
		fail_msg("row '%s': rc %d, message '%s' (wanted '%s')", row, rc, e.msg, needle);
	free(c);
}

static void test_variant_fields(void **state)
{
	(void)state;
	char text[2048];
	snprintf(text, sizeof text, "%s%s\n%s\n%s\n", vheader,
	         "a,1,4,2,64,3,9,1,q,k,v,o,f16,5,30,al.npy,sk.npy,32,q8_0,ql.npy,kl.npy",
	         "b,1,4,2,64,3,9,1,q,k,v,o,f16,,,,,64,f16,,", "c,1,4,2,8,3,9,0,q,k,v,o,,,,,,,bf16,,kl.npy");
	golden_case *c;
	int n;
	attn_err e = {{0}};
	assert_int_equal(read_text(text, &c, &n, &e), 0);
	assert_int_equal(n, 3);
	const attn_shape *s = &c[0].shape;
	assert_int_equal(s->window, 5);
	assert_true(s->softcap == 30.0f);
	assert_int_equal(s->head_dim_v, 32);
	assert_int_equal(attn_kv_dtype(s), ATTN_Q8_0);
	assert_int_equal(s->dtype, ATTN_F16);
	assert_non_null(strstr(c[0].alibi, "/al.npy"));
	assert_non_null(strstr(c[0].sinks, "/sk.npy"));
	assert_non_null(strstr(c[0].q_lens, "/ql.npy"));
	assert_non_null(strstr(c[0].kv_lens, "/kl.npy"));
	assert_null(s->alibi); /* the loader sets the pointers */
	/* head_dim_v equal to head_dim and kv_dtype equal to dtype: not used */
	s = &c[1].shape;
	assert_true(s->window == 0 && s->softcap == 0 && s->head_dim_v == 0 && s->kv_storage == 0);
	assert_true(!c[1].alibi[0] && !c[1].q_lens[0]);
	assert_int_equal(attn_kv_dtype(&c[2].shape), ATTN_BF16);
	assert_true(!c[2].q_lens[0] && c[2].kv_lens[0]);
	free(c);

	expect_bad_v("a,1,4,2,64,3,9,1,q,k,v,o,,0,,,,,,,", "field 'window'");
	expect_bad_v("a,1,4,2,64,3,9,1,q,k,v,o,,2.5,,,,,,,", "field 'window'");
	expect_bad_v("a,1,4,2,64,3,9,1,q,k,v,o,,-1,,,,,,,", "field 'window'");
	expect_bad_v("a,1,4,2,64,3,9,1,q,k,v,o,,,0,,,,,,", "field 'softcap'");
	expect_bad_v("a,1,4,2,64,3,9,1,q,k,v,o,,,-3,,,,,,", "field 'softcap'");
	expect_bad_v("a,1,4,2,64,3,9,1,q,k,v,o,,,inf,,,,,,", "field 'softcap'");
	expect_bad_v("a,1,4,2,64,3,9,1,q,k,v,o,,,nan,,,,,,", "field 'softcap'");
	expect_bad_v("a,1,4,2,64,3,9,1,q,k,v,o,,,1e39,,,,,,", "field 'softcap'");
	expect_bad_v("a,1,4,2,64,3,9,1,q,k,v,o,,,,,,0,,,", "field 'head_dim_v'");
	expect_bad_v("a,1,4,2,64,3,9,1,q,k,v,o,,,,,,x,,,", "field 'head_dim_v'");
	expect_bad_v("a,1,4,2,64,3,9,1,q,k,v,o,,,,,,,q5_1,,", "field 'kv_dtype'");
	expect_bad_v("a,1,4,2,48,3,9,1,q,k,v,o,,,,,,,q8_0,,", "field 'kv_dtype': q8_0 needs head_dim and head_dim_v");
	expect_bad_v("a,1,4,2,64,3,9,1,q,k,v,o,,,,,,40,q4_0,,", "head_dim_v 40");
	expect_bad_v("a,1,4,2,64,3,9,1,q,k,v,o,,,,../al.npy,,,,,", "field 'alibi': '../al.npy' leaves");
	expect_bad_v("a,1,4,2,64,3,9,1,q,k,v,o,,,,,/sk.npy,,,,", "field 'sinks': '/sk.npy' is absolute");
	expect_bad_v("a,1,4,2,64,3,9,1,q,k,v,o,,,,,,,,../ql.npy,", "field 'q_lens'");
	expect_bad_v("a,1,4,2,64,3,9,1,q,k,v,o,,,,,,,,,/kl.npy", "field 'kv_lens'");
	expect_bad_v("a,1048576,1048576,1,1,1024,1024,0,q,k,v,o,,,,,,65536,,,",
	             "field 'head_dim_v': byte count overflows");
}

static void test_bad_headers(void **state)
{
	(void)state;
	golden_case *c = NULL;
	int n;
	attn_err e = {{0}};
	assert_int_equal(read_text("name,batch\nx,1\n", &c, &n, &e), EXIT_INPUT);
	assert_non_null(strstr(e.msg, "required column"));
	assert_int_equal(read_text("", &c, &n, &e), EXIT_INPUT);
	assert_non_null(strstr(e.msg, "empty"));
	assert_int_equal(read_text(header, &c, &n, &e), EXIT_INPUT);
	assert_non_null(strstr(e.msg, "no cases"));
	static const char nul_row[] =
	    "name,batch,n_heads,n_kv_heads,head_dim,n_q,n_kv,causal,q,k,v,out\na\0b,1,1,1,1,1,1,0,q,k,v,o\n";
	char p[512];
	snprintf(p, sizeof p, "%s/manifest.csv", dir);
	tu_write(p, nul_row, sizeof nul_row - 1);
	assert_int_equal(manifest_read(dir, &c, &n, &e), EXIT_INPUT);
	assert_non_null(strstr(e.msg, "NUL"));
	assert_int_equal(manifest_read("/nonexistent-dir", &c, &n, &e), EXIT_INPUT);
	assert_non_null(strstr(e.msg, "/nonexistent-dir/manifest.csv"));
}

static int setup(void **state)
{
	(void)state;
	dir = tu_tmpdir();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tu_rmtree(dir);
	return 0;
}

int run_manifest_tests(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid),
	    cmocka_unit_test(test_bad_rows),
	    cmocka_unit_test(test_variant_fields),
	    cmocka_unit_test(test_bad_headers),
	};
	tu_count_tests((int)(sizeof tests / sizeof tests[0]));
	return cmocka_run_group_tests_name("manifest", tests, setup, teardown);
}
