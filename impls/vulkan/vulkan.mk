# vulkan.mk - the Vulkan backend, included by the top Makefile when
# HAVE_VULKAN=1 (vulkan headers, volk and glslc present).
#
# Every impls/vulkan/*.comp is compiled by glslc into a C initialiser,
# $(BUILD)/shaders/<name>.spv.inc, that vk_pipeline.c embeds; *.glsl files are
# shared sources the .comp files include. The shaders that read Q, K and V
# (VK_DTYPE_COMP) are compiled once more per storage type of K and V, with
# -DDTYPE=N (the attn_dtype value) into <name>_<type>.spv.inc: f16, bf16,
# q8_0, q4_0 and fp8 (see common.glsl). Nothing links against libvulkan: volk opens
# libvulkan.so.1 at run time.

VK_SHADER_DIR := $(BUILD)/shaders
VK_COMP       := $(wildcard impls/vulkan/*.comp)
VK_GLSL       := $(wildcard impls/vulkan/*.glsl)
VK_DTYPE_COMP := flash_attn flash_attn_sg decode_split decode_split_sg
VK_SPV        := $(patsubst impls/vulkan/%.comp,$(VK_SHADER_DIR)/%.spv.inc,$(VK_COMP)) \
                 $(foreach t,f16 bf16 q8_0 q4_0 fp8,$(patsubst %,$(VK_SHADER_DIR)/%_$(t).spv.inc,$(VK_DTYPE_COMP)))

VK_SRC    := $(wildcard impls/vulkan/*.c)
VK_CFLAGS := -DATTN_HAVE_VULKAN $(call pc_cflags,vulkan) -I$(VK_SHADER_DIR)
VK_DEPS   := $(VK_SPV)

$(VK_SHADER_DIR)/%.spv.inc: impls/vulkan/%.comp $(VK_GLSL)
	@mkdir -p $(dir $@)
	$(GLSLC) --target-env=vulkan1.1 -O -mfmt=c $< -o $@

$(VK_SHADER_DIR)/%_f16.spv.inc: impls/vulkan/%.comp $(VK_GLSL)
	@mkdir -p $(dir $@)
	$(GLSLC) --target-env=vulkan1.1 -O -mfmt=c -DDTYPE=1 $< -o $@

$(VK_SHADER_DIR)/%_bf16.spv.inc: impls/vulkan/%.comp $(VK_GLSL)
	@mkdir -p $(dir $@)
	$(GLSLC) --target-env=vulkan1.1 -O -mfmt=c -DDTYPE=2 $< -o $@

$(VK_SHADER_DIR)/%_q8_0.spv.inc: impls/vulkan/%.comp $(VK_GLSL)
	@mkdir -p $(dir $@)
	$(GLSLC) --target-env=vulkan1.1 -O -mfmt=c -DDTYPE=3 $< -o $@

$(VK_SHADER_DIR)/%_q4_0.spv.inc: impls/vulkan/%.comp $(VK_GLSL)
	@mkdir -p $(dir $@)
	$(GLSLC) --target-env=vulkan1.1 -O -mfmt=c -DDTYPE=4 $< -o $@

$(VK_SHADER_DIR)/%_fp8.spv.inc: impls/vulkan/%.comp $(VK_GLSL)
	@mkdir -p $(dir $@)
	$(GLSLC) --target-env=vulkan1.1 -O -mfmt=c -DDTYPE=5 $< -o $@

# The headers are only order-only prerequisites: keep make from deleting
# them as intermediate files after the build.
.SECONDARY: $(VK_SPV)
