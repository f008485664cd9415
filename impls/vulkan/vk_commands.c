/*
 * vk_commands.c - command buffer and submission: the command pool, the one
 * command buffer, its fence and the timestamp query pool (setup step 5);
 * recording helpers (begin, barriers, copies from staging, dispatches); and
 * vk_cmd_submit, the only wait on the device, bounded by timeout_ms, which
 * reads the timestamps and marks the instance faulty on a timeout or a lost
 * device.
 */
#include "vk_internal.h"

#include <stdlib.h>

/* Step 5: command pool and buffer, fence, timestamp query pool. */
int vk_setup_commands(vk_ctx *c)
{
	VkCommandPoolCreateInfo pci = {
	    .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
	    .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
	    .queueFamilyIndex = c->queue_family,
	};
	VK_CHECK(c, c->vk.vkCreateCommandPool(c->device, &pci, NULL, &c->cmd_pool));
	VkCommandBufferAllocateInfo cai = {
	    .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
	    .commandPool = c->cmd_pool,
	    .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
	    .commandBufferCount = 1,
	};
	VK_CHECK(c, c->vk.vkAllocateCommandBuffers(c->device, &cai, &c->cmd));
	VkFenceCreateInfo fci = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
	VK_CHECK(c, c->vk.vkCreateFence(c->device, &fci, NULL, &c->fence));

	uint32_t n = 0;
	vkGetPhysicalDeviceQueueFamilyProperties(c->phys, &n, NULL);
	VkQueueFamilyProperties *q = calloc(n ? n : 1, sizeof *q);
	if (!q)
		return vk_set_err(c, ATTN_E_NOMEM, "out of host memory");
	vkGetPhysicalDeviceQueueFamilyProperties(c->phys, &n, q);
	uint32_t bits = q[c->queue_family].timestampValidBits;
	free(q);
	c->last_ns = -1;
	if (bits == 0 || c->props.limits.timestampPeriod <= 0)
		return ATTN_OK;
	c->ts_mask = bits >= 64 ? ~0ull : (1ull << bits) - 1;
	c->ts_period = c->props.limits.timestampPeriod;
	VkQueryPoolCreateInfo qci = {
	    .sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
	    .queryType = VK_QUERY_TYPE_TIMESTAMP,
	    .queryCount = 2,
	};
	VK_CHECK(c, c->vk.vkCreateQueryPool(c->device, &qci, NULL, &c->query_pool));
	return ATTN_OK;
}

/* Begin recording; reset the timestamp queries. */
int vk_cmd_begin(vk_ctx *c)
{
	VK_CHECK(c, c->vk.vkResetCommandBuffer(c->cmd, 0));
	VkCommandBufferBeginInfo bi = {
	    .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
	    .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
	};
	VK_CHECK(c, c->vk.vkBeginCommandBuffer(c->cmd, &bi));
	if (c->query_pool)
		c->vk.vkCmdResetQueryPool(c->cmd, c->query_pool, 0, 2);
	return ATTN_OK;
}

/* A global memory barrier between two stages. */
void vk_cmd_barrier(vk_ctx *c, VkPipelineStageFlags src_stage, VkAccessFlags src, VkPipelineStageFlags dst_stage,
                    VkAccessFlags dst)
{
	VkMemoryBarrier mb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER, .srcAccessMask = src, .dstAccessMask = dst};
	c->vk.vkCmdPipelineBarrier(c->cmd, src_stage, dst_stage, 0, 1, &mb, 0, NULL, 0, NULL);
}

/* Copy size bytes from the staging buffer to dst (or back when down). */
void vk_cmd_copy(vk_ctx *c, VkBuffer dst, VkDeviceSize dst_off, VkDeviceSize stage_off, VkDeviceSize size)
{
	VkBufferCopy r = {.srcOffset = stage_off, .dstOffset = dst_off, .size = size};
	c->vk.vkCmdCopyBuffer(c->cmd, c->staging.buf, dst, 1, &r);
}

/* Record one dispatch of a pipeline with the push constants. */
void vk_cmd_dispatch(vk_ctx *c, VkPipeline pipe, const struct vk_push *pc, const uint32_t groups[3])
{
	c->vk.vkCmdBindPipeline(c->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pipe);
	c->vk.vkCmdBindDescriptorSets(c->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, c->pipe_layout, 0, 1, &c->set, 0, NULL);
	c->vk.vkCmdPushConstants(c->cmd, c->pipe_layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof *pc, pc);
	c->vk.vkCmdDispatch(c->cmd, groups[0], groups[1], groups[2]);
}

/* End recording, submit, wait on the fence (with the timeout) and read the
 * timestamps when timed is set. The fence wait is the only wait on the
 * device anywhere: when it times out, or the device is lost, the instance
 * is marked faulty and in_flight stays set, for vk_destroy. */
int vk_cmd_submit(vk_ctx *c, int timed)
{
	vk_cmd_barrier(c, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_HOST_BIT,
	               VK_ACCESS_HOST_READ_BIT);
	VK_CHECK(c, c->vk.vkEndCommandBuffer(c->cmd));
	VK_CHECK(c, c->vk.vkResetFences(c->device, 1, &c->fence));
	VkSubmitInfo si = {
	    .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
	    .commandBufferCount = 1,
	    .pCommandBuffers = &c->cmd,
	};
	VK_CHECK(c, c->vk.vkQueueSubmit(c->queue, 1, &si, c->fence));
	c->in_flight = 1;
	VkResult r = c->vk.vkWaitForFences(c->device, 1, &c->fence, VK_TRUE, (uint64_t)c->par.timeout_ms * 1000000ull);
	if (r == VK_TIMEOUT) {
		vk_set_err(c, ATTN_E_DEVICE,
		           "vkWaitForFences: VK_TIMEOUT: the device did not finish the call within timeout_ms=%d "
		           "(--param vulkan:timeout_ms=N or ATTNBENCH_VK_TIMEOUT_MS)",
		           c->par.timeout_ms);
		return vk_mark_fault(c, FAULT_TIMEOUT);
	}
	if (r != VK_SUCCESS)
		return vk_fail(c, "vkWaitForFences", r);
	c->in_flight = 0;
	if (timed && c->query_pool) {
		/* no VK_QUERY_RESULT_WAIT_BIT: the fence says the work is done, and
		 * results that are somehow not there just leave the time unknown */
		uint64_t ts[2];
		r = c->vk.vkGetQueryPoolResults(c->device, c->query_pool, 0, 2, sizeof ts, ts, sizeof ts[0],
		                                VK_QUERY_RESULT_64_BIT);
		if (r != VK_SUCCESS && r != VK_NOT_READY)
			return vk_fail(c, "vkGetQueryPoolResults", r);
		if (r == VK_SUCCESS) {
			uint64_t dt = ((ts[1] & c->ts_mask) - (ts[0] & c->ts_mask)) & c->ts_mask;
			c->last_ns = (int64_t)((double)dt * c->ts_period);
		}
	}
	return ATTN_OK;
}
