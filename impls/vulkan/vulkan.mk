# vulkan.mk - the Vulkan backend, included by the top Makefile when
# HAVE_VULKAN=1 (vulkan headers, volk and glslc present).
#
# Every impls/vulkan/*.comp is compiled by glslc into a C initialiser,
# $(BUILD)/shaders/<name>.spv.inc, that vulkan.c embeds; *.glsl files are
# shared sources the .comp files include. Nothing links against libvulkan:
# volk opens libvulkan.so.1 at run time.

VK_SHADER_DIR := $(BUILD)/shaders
VK_COMP       := $(wildcard impls/vulkan/*.comp)
VK_GLSL       := $(wildcard impls/vulkan/*.glsl)
VK_SPV        := $(patsubst impls/vulkan/%.comp,$(VK_SHADER_DIR)/%.spv.inc,$(VK_COMP))

VK_SRC    := impls/vulkan/vulkan.c impls/vulkan/volk_impl.c
VK_CFLAGS := -DATTN_HAVE_VULKAN $(call pc_cflags,vulkan) -I$(VK_SHADER_DIR)
VK_DEPS   := $(VK_SPV)

$(VK_SHADER_DIR)/%.spv.inc: impls/vulkan/%.comp $(VK_GLSL)
	@mkdir -p $(dir $@)
	$(GLSLC) --target-env=vulkan1.1 -O -mfmt=c $< -o $@

# The headers are only order-only prerequisites: keep make from deleting
# them as intermediate files after the build.
.SECONDARY: $(VK_SPV)
