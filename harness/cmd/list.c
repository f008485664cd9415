/* list.c - `attnbench list`: one line per backend with its availability,
 * device and capabilities, then the devices it can choose from. */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/common.h"
#include "run/registry.h"

const cli_command list_command = {
    .name = "list",
    .synopsis = "[--backend-lib PATH]...",
    .about = "One line per backend: name, ok or unavailable (reason), device, capabilities;\n"
             "then how an instance is set up (threads, tiles, the GPU's paths), the library\n"
             "a backend came from with the interface version it was built for, and the\n"
             "devices of a backend that has several.",
    .shared = CLI_BACKEND_LIB,
    .examples = "# every built-in backend, then those of a library\n"
                "attnbench list\n"
                "attnbench list --backend-lib build/libattnbench_twopass.so",
};

int cmd_list(int argc, char **argv)
{
	cli_common com;
	const int rc = cli_parse(&list_command, argc, argv, &com);
	if (rc >= 0)
		return rc;
	for (int i = 0; i < registry_count(); i++) {
		const backend_entry *e = registry_get(i);
		char caps[256];
		caps_str(e->be->caps, caps, sizeof caps);
		const char *device = "-";
		void *inst = NULL;
		char err[256];
		const attn_config cfg = registry_config(&com.cfg, e->be->name);
		if (e->available && e->be->create(&cfg, &inst, err, sizeof err) == ATTN_OK)
			device = e->be->device_name(inst);
		if (e->available)
			printf("%-10s ok   %s\n", e->be->name, device);
		else
			printf("%-10s unavailable (%s)\n", e->be->name, e->reason);
		printf("    caps: %s\n", caps);
		/* absent (NULL) in a table built for ABI 1 */
		const char *info = inst && e->be->instance_info ? e->be->instance_info(inst) : NULL;
		if (info && *info)
			printf("    setup: %s\n", info);
		if (strcmp(e->origin, "built-in") != 0)
			printf("    from %s (ABI %u)\n", e->origin, e->be->abi_version);
		if (e->available && e->be->list_devices) {
			char buf[4096] = "";
			e->be->list_devices(buf, sizeof buf);
			for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
				printf("    %s\n", line);
		}
		if (inst)
			e->be->destroy(inst);
	}
	return EXIT_PASS;
}
