/*
 * vk_pipeline.c - descriptors and pipelines: the SPIR-V embedded at build
 * time (once per storage type for the shaders that read q, k and v), the
 * descriptor set layout, pipeline layout and descriptor set (setup step 6),
 * the shader modules (step 7), compute pipelines specialised per shape and
 * cached, and the descriptor writes of a call.
 */
#include "vk_internal.h"

#include <string.h>

/* SPIR-V of the shaders, compiled from impls/vulkan/\*.comp by the build
 * (static analysers, which do not run the build, see empty stand-ins). */
#if __has_include("flash_attn.spv.inc")
static const uint32_t spv_flash[] =
#include "flash_attn.spv.inc"
    ;
static const uint32_t spv_flash_sg[] =
#include "flash_attn_sg.spv.inc"
    ;
static const uint32_t spv_split[] =
#include "decode_split.spv.inc"
    ;
static const uint32_t spv_split_sg[] =
#include "decode_split_sg.spv.inc"
    ;
static const uint32_t spv_reduce[] =
#include "decode_reduce.spv.inc"
    ;
static const uint32_t spv_flash_f16[] =
#include "flash_attn_f16.spv.inc"
    ;
static const uint32_t spv_flash_sg_f16[] =
#include "flash_attn_sg_f16.spv.inc"
    ;
static const uint32_t spv_split_f16[] =
#include "decode_split_f16.spv.inc"
    ;
static const uint32_t spv_split_sg_f16[] =
#include "decode_split_sg_f16.spv.inc"
    ;
static const uint32_t spv_flash_bf16[] =
#include "flash_attn_bf16.spv.inc"
    ;
static const uint32_t spv_flash_sg_bf16[] =
#include "flash_attn_sg_bf16.spv.inc"
    ;
static const uint32_t spv_split_bf16[] =
#include "decode_split_bf16.spv.inc"
    ;
static const uint32_t spv_split_sg_bf16[] =
#include "decode_split_sg_bf16.spv.inc"
    ;
static const uint32_t spv_flash_q8_0[] =
#include "flash_attn_q8_0.spv.inc"
    ;
static const uint32_t spv_flash_sg_q8_0[] =
#include "flash_attn_sg_q8_0.spv.inc"
    ;
static const uint32_t spv_split_q8_0[] =
#include "decode_split_q8_0.spv.inc"
    ;
static const uint32_t spv_split_sg_q8_0[] =
#include "decode_split_sg_q8_0.spv.inc"
    ;
static const uint32_t spv_flash_q4_0[] =
#include "flash_attn_q4_0.spv.inc"
    ;
static const uint32_t spv_flash_sg_q4_0[] =
#include "flash_attn_sg_q4_0.spv.inc"
    ;
static const uint32_t spv_split_q4_0[] =
#include "decode_split_q4_0.spv.inc"
    ;
static const uint32_t spv_split_sg_q4_0[] =
#include "decode_split_sg_q4_0.spv.inc"
    ;
static const uint32_t spv_flash_fp8[] =
#include "flash_attn_fp8.spv.inc"
    ;
static const uint32_t spv_flash_sg_fp8[] =
#include "flash_attn_sg_fp8.spv.inc"
    ;
static const uint32_t spv_split_fp8[] =
#include "decode_split_fp8.spv.inc"
    ;
static const uint32_t spv_split_sg_fp8[] =
#include "decode_split_sg_fp8.spv.inc"
    ;
#elif defined(__CPPCHECK__)
static const uint32_t spv_flash[1], spv_flash_sg[1], spv_split[1], spv_split_sg[1], spv_reduce[1];
static const uint32_t spv_flash_f16[1], spv_flash_sg_f16[1], spv_split_f16[1], spv_split_sg_f16[1];
static const uint32_t spv_flash_bf16[1], spv_flash_sg_bf16[1], spv_split_bf16[1], spv_split_sg_bf16[1];
static const uint32_t spv_flash_q8_0[1], spv_flash_sg_q8_0[1], spv_split_q8_0[1], spv_split_sg_q8_0[1];
static const uint32_t spv_flash_q4_0[1], spv_flash_sg_q4_0[1], spv_split_q4_0[1], spv_split_sg_q4_0[1];
static const uint32_t spv_flash_fp8[1], spv_flash_sg_fp8[1], spv_split_fp8[1], spv_split_sg_fp8[1];
#else
#error "the SPIR-V headers are missing: build with the Makefile (impls/vulkan/vulkan.mk)"
#endif

/* Bindings 0 .. N_STORAGE-1 and the last (aux) are storage buffers, the
 * others texel buffers. */
static int is_texel(uint32_t binding)
{
	return binding >= N_STORAGE && binding < N_BINDINGS - 1;
}

static VkDescriptorType binding_type(uint32_t binding)
{
	return is_texel(binding) ? VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER : VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
}

/* Step 6: descriptor set layout (five storage buffers, K and V as texel
 * buffers, the aux storage buffer), pipeline layout with the push constants, and the one
 * descriptor set. */
int vk_setup_descriptors(vk_ctx *c)
{
	VkDescriptorSetLayoutBinding b[N_BINDINGS];
	for (uint32_t i = 0; i < N_BINDINGS; i++)
		b[i] = (VkDescriptorSetLayoutBinding){
		    .binding = i,
		    .descriptorType = binding_type(i),
		    .descriptorCount = 1,
		    .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
		};
	VkDescriptorSetLayoutCreateInfo lci = {
	    .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
	    .bindingCount = N_BINDINGS,
	    .pBindings = b,
	};
	VK_CHECK(c, c->vk.vkCreateDescriptorSetLayout(c->device, &lci, NULL, &c->set_layout));
	VkPushConstantRange pcr = {
	    .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
	    .offset = 0,
	    .size = sizeof(struct vk_push),
	};
	VkPipelineLayoutCreateInfo plci = {
	    .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
	    .setLayoutCount = 1,
	    .pSetLayouts = &c->set_layout,
	    .pushConstantRangeCount = 1,
	    .pPushConstantRanges = &pcr,
	};
	VK_CHECK(c, c->vk.vkCreatePipelineLayout(c->device, &plci, NULL, &c->pipe_layout));
	VkDescriptorPoolSize ps[2] = {
	    {.type = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, .descriptorCount = N_STORAGE + 1},
	    {.type = VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER, .descriptorCount = N_BINDINGS - N_STORAGE - 1},
	};
	VkDescriptorPoolCreateInfo dpci = {
	    .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
	    .maxSets = 1,
	    .poolSizeCount = 2,
	    .pPoolSizes = ps,
	};
	VK_CHECK(c, c->vk.vkCreateDescriptorPool(c->device, &dpci, NULL, &c->desc_pool));
	VkDescriptorSetAllocateInfo dsai = {
	    .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
	    .descriptorPool = c->desc_pool,
	    .descriptorSetCount = 1,
	    .pSetLayouts = &c->set_layout,
	};
	VK_CHECK(c, c->vk.vkAllocateDescriptorSets(c->device, &dsai, &c->set));
	return ATTN_OK;
}

/* Step 7: shader modules from the embedded SPIR-V (the subgroup variants
 * only where the device has the subgroup operations they use, the f16 and
 * bf16 ones only where 16-bit storage is enabled). */
int vk_setup_shaders(vk_ctx *c)
{
#define SRC(kind, dtype, code, sg)                                                                                     \
	[(kind) + SH_KINDS * (dtype)] = { code, sizeof code, sg, (dtype) == ATTN_F16 || (dtype) == ATTN_BF16 }
	static const struct {
		const uint32_t *code;
		size_t size;
		int needs_subgroup, needs_storage16;
	} src[SH_COUNT] = {
	    SRC(SH_FLASH, ATTN_F32, spv_flash, 0),
	    SRC(SH_FLASH_SG, ATTN_F32, spv_flash_sg, 1),
	    SRC(SH_SPLIT, ATTN_F32, spv_split, 0),
	    SRC(SH_SPLIT_SG, ATTN_F32, spv_split_sg, 1),
	    SRC(SH_FLASH, ATTN_F16, spv_flash_f16, 0),
	    SRC(SH_FLASH_SG, ATTN_F16, spv_flash_sg_f16, 1),
	    SRC(SH_SPLIT, ATTN_F16, spv_split_f16, 0),
	    SRC(SH_SPLIT_SG, ATTN_F16, spv_split_sg_f16, 1),
	    SRC(SH_FLASH, ATTN_BF16, spv_flash_bf16, 0),
	    SRC(SH_FLASH_SG, ATTN_BF16, spv_flash_sg_bf16, 1),
	    SRC(SH_SPLIT, ATTN_BF16, spv_split_bf16, 0),
	    SRC(SH_SPLIT_SG, ATTN_BF16, spv_split_sg_bf16, 1),
	    SRC(SH_FLASH, ATTN_Q8_0, spv_flash_q8_0, 0),
	    SRC(SH_FLASH_SG, ATTN_Q8_0, spv_flash_sg_q8_0, 1),
	    SRC(SH_SPLIT, ATTN_Q8_0, spv_split_q8_0, 0),
	    SRC(SH_SPLIT_SG, ATTN_Q8_0, spv_split_sg_q8_0, 1),
	    SRC(SH_FLASH, ATTN_Q4_0, spv_flash_q4_0, 0),
	    SRC(SH_FLASH_SG, ATTN_Q4_0, spv_flash_sg_q4_0, 1),
	    SRC(SH_SPLIT, ATTN_Q4_0, spv_split_q4_0, 0),
	    SRC(SH_SPLIT_SG, ATTN_Q4_0, spv_split_sg_q4_0, 1),
	    SRC(SH_FLASH, ATTN_FP8_E4M3, spv_flash_fp8, 0),
	    SRC(SH_FLASH_SG, ATTN_FP8_E4M3, spv_flash_sg_fp8, 1),
	    SRC(SH_SPLIT, ATTN_FP8_E4M3, spv_split_fp8, 0),
	    SRC(SH_SPLIT_SG, ATTN_FP8_E4M3, spv_split_sg_fp8, 1),
	    [SH_REDUCE] = {spv_reduce, sizeof spv_reduce, 0, 0},
	};
#undef SRC
	for (int i = 0; i < SH_COUNT; i++) {
		if ((src[i].needs_subgroup && !c->use_subgroup) || (src[i].needs_storage16 && !c->storage16))
			continue;
		VkShaderModuleCreateInfo ci = {
		    .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
		    .codeSize = src[i].size,
		    .pCode = src[i].code,
		};
		VK_CHECK(c, c->vk.vkCreateShaderModule(c->device, &ci, NULL, &c->modules[i]));
	}
	return vk_take_validation(c, ATTN_OK);
}

/* The cached pipeline for a shader and specialisation, created on first use. */
int vk_get_pipeline(vk_ctx *c, int shader, const uint32_t spec[N_SPEC], VkPipeline *out)
{
	for (int i = 0; i < c->n_pipes; i++)
		if (c->pipes[i].shader == shader && memcmp(c->pipes[i].spec, spec, sizeof c->pipes[i].spec) == 0) {
			*out = c->pipes[i].pipe;
			return ATTN_OK;
		}
	if (c->n_pipes == MAX_PIPES) {
		/* Forget the oldest; nothing is in flight between calls. */
		c->vk.vkDestroyPipeline(c->device, c->pipes[0].pipe, NULL);
		memmove(c->pipes, c->pipes + 1, sizeof c->pipes[0] * (MAX_PIPES - 1));
		c->n_pipes--;
	}
	VkSpecializationMapEntry map[N_SPEC];
	for (uint32_t i = 0; i < N_SPEC; i++)
		map[i] = (VkSpecializationMapEntry){.constantID = i, .offset = 4 * i, .size = 4};
	VkSpecializationInfo si = {.mapEntryCount = N_SPEC, .pMapEntries = map, .dataSize = 4 * N_SPEC, .pData = spec};
	VkComputePipelineCreateInfo ci = {
	    .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
	    .stage =
	        {
	            .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
	            .stage = VK_SHADER_STAGE_COMPUTE_BIT,
	            .module = c->modules[shader],
	            .pName = "main",
	            .pSpecializationInfo = &si,
	        },
	    .layout = c->pipe_layout,
	};
	VkPipeline p;
	VK_CHECK(c, c->vk.vkCreateComputePipelines(c->device, VK_NULL_HANDLE, 1, &ci, NULL, &p));
	vk_pipe *e = &c->pipes[c->n_pipes++];
	e->shader = shader;
	memcpy(e->spec, spec, sizeof e->spec);
	e->pipe = p;
	*out = p;
	return ATTN_OK;
}

/* Point the descriptor set at the buffers of this call (k and v twice:
 * as storage buffers and through their texel views of dtype t; the block
 * formats and fp8 get f32 views, which their shaders never read). */
int vk_bind_buffers(vk_ctx *c, vk_buf *k, vk_buf *v, attn_dtype t)
{
	if (t != ATTN_F16 && t != ATTN_BF16)
		t = ATTN_F32;
	int rc = vk_buf_view(c, k, t);
	if (!rc)
		rc = vk_buf_view(c, v, t);
	if (rc)
		return rc;
	VkDescriptorBufferInfo bi[N_BINDINGS] = {
	    {c->q.buf, 0, VK_WHOLE_SIZE},    {k->buf, 0, VK_WHOLE_SIZE},
	    {v->buf, 0, VK_WHOLE_SIZE},      {c->out.buf, 0, VK_WHOLE_SIZE},
	    {c->part.buf, 0, VK_WHOLE_SIZE}, [N_BINDINGS - 1] = {c->aux.buf, 0, VK_WHOLE_SIZE},
	};
	VkBufferView views[N_BINDINGS] = {[N_STORAGE] = k->view, [N_STORAGE + 1] = v->view};
	VkWriteDescriptorSet w[N_BINDINGS];
	for (uint32_t i = 0; i < N_BINDINGS; i++)
		w[i] = (VkWriteDescriptorSet){
		    .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
		    .dstSet = c->set,
		    .dstBinding = i,
		    .descriptorCount = 1,
		    .descriptorType = binding_type(i),
		    .pBufferInfo = is_texel(i) ? NULL : &bi[i],
		    .pTexelBufferView = is_texel(i) ? &views[i] : NULL,
		};
	c->vk.vkUpdateDescriptorSets(c->device, N_BINDINGS, w, 0, NULL);
	return ATTN_OK;
}

/* Words of the aux buffer of a call: ALiBi slopes and sink logits (n_heads
 * each), query and key counts (batch each), the block table. */
uint64_t vk_aux_bytes(const attn_shape *s, const attn_paged_kv *kv)
{
	return 4 * (uint64_t)(2 * s->n_heads + 2 * s->batch + (kv ? s->batch * kv->max_pages : 0));
}

/* Fill the mapped aux buffer for s (and the block table of kv when paged)
 * and the push constants that point into it. Slopes and sinks are stored
 * times log2(e), the unit of the shaders' scores. */
void vk_fill_aux(vk_ctx *c, const attn_shape *s, const attn_paged_kv *kv, struct vk_push *pc)
{
	uint32_t *w = c->aux.map;
	const uint32_t nh = (uint32_t)s->n_heads, nb = (uint32_t)s->batch;
	pc->alibi_off = 0;
	pc->sink_off = nh;
	pc->qlen_off = 2 * nh;
	pc->kvlen_off = 2 * nh + nb;
	pc->bt_off = 2 * nh + 2 * nb;
	pc->flags = (s->alibi ? VK_F_ALIBI : 0) | (s->sinks ? VK_F_SINKS : 0) |
	            (s->q_lens || s->kv_lens ? VK_F_RAGGED : 0) | (kv ? VK_F_PAGED : 0);
	for (uint32_t h = 0; h < nh; h++) {
		const float a = s->alibi ? (float)(s->alibi[h] * VK_LOG2E) : 0.0f;
		const float z = s->sinks ? (float)(s->sinks[h] * VK_LOG2E) : 0.0f;
		memcpy(&w[pc->alibi_off + h], &a, 4);
		memcpy(&w[pc->sink_off + h], &z, 4);
	}
	for (uint32_t b = 0; b < nb; b++) {
		w[pc->qlen_off + b] = (uint32_t)(s->q_lens ? s->q_lens[b] : s->n_q);
		w[pc->kvlen_off + b] = (uint32_t)(s->kv_lens ? s->kv_lens[b] : s->n_kv);
	}
	if (kv) {
		pc->page_size = (uint32_t)kv->page_size;
		pc->max_pages = (uint32_t)kv->max_pages;
		memcpy(&w[pc->bt_off], kv->block_table, (size_t)(s->batch * kv->max_pages) * sizeof(int32_t));
	}
}
