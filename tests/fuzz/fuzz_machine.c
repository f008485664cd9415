/* fuzz_machine.c - libFuzzer target for the machine.json reader
 * (machine_read): any bytes give a record or an input error naming the
 * file, never a crash, a leak or a read past the buffer. */
#include <stdint.h>

#include "fuzz_common.h"
#include "model/machine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[128];
	fuzz_path(path, sizeof path, "machine.json");
	fuzz_write(path, data, size);
	machine_info m;
	attn_err e = {{0}};
	const int rc = machine_read(path, &m, &e);
	if (rc) {
		FUZZ_CHECK(rc == EXIT_INPUT);
		fuzz_check_msg(e.msg, path);
		return 0;
	}
	const char *text[] = {m.cpu_model, m.blas,     m.compiler, m.build_flags, m.git_commit,
	                      m.date_utc,  m.hostname, m.os,       m.devices};
	for (size_t i = 0; i < sizeof text / sizeof text[0]; i++)
		FUZZ_CHECK(!text[i] || text[i][0]); /* absent or empty: NULL */
	FUZZ_CHECK(m.cpus_online >= -1 && m.threads_used >= -1 && m.ram_bytes >= -1 && m.blas_threads >= -1);
	FUZZ_CHECK(!m.has_roofline || (m.peaks.sgemm_attn_gflops >= 0 && m.peaks.dram_gbs >= 0));
	machine_info_free(&m);
	return 0;
}
