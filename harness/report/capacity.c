/* capacity.c - see capacity.h. */
#include "report/capacity.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "attn_quant.h"

const char *const plan_kv_types[PLAN_N_KV_TYPES] = {"f32", "f16", "bf16", "fp8_e4m3", "q8_0", "q4_0"};

const char *plan_kv_type_name(const char *name)
{
	for (int i = 0; i < PLAN_N_KV_TYPES; i++)
		if (!strcasecmp(plan_kv_types[i], name))
			return plan_kv_types[i];
	return NULL;
}

double plan_kv_row_bytes(const char *kv, int64_t n)
{
	attn_dtype t;
	if (!attn_kv_dtype_parse(kv, &t))
		return 0;
	if (attn_dtype_blocked(t) && n % ATTN_QBLOCK)
		return -1;
	return (double)attn_row_bytes(t, n);
}

int64_t plan_local_layers(const plan_model *m)
{
	if (m->window <= 0)
		return 0;
	if (m->window_pattern <= 0)
		return m->layers;
	return m->layers - m->layers / m->window_pattern; /* layer i is global when (i + 1) % pattern == 0 */
}

double plan_layer_token_bytes(const plan_model *m, const char *kv)
{
	if (m->kv_lora_rank > 0)
		return plan_kv_row_bytes(kv, m->kv_lora_rank + m->qk_rope_head_dim);
	const double row = plan_kv_row_bytes(kv, m->head_dim);
	return row > 0 ? 2.0 * (double)m->kv_heads * row : row;
}

/* tokens rounded up to a multiple of page */
static double paged(int64_t tokens, int64_t page)
{
	if (page <= 1)
		return (double)tokens;
	return ceil((double)tokens / (double)page) * (double)page;
}

double plan_seq_bytes(const plan_model *m, const char *kv, int64_t tokens, int64_t page)
{
	const double per = plan_layer_token_bytes(m, kv);
	const int64_t local = plan_local_layers(m);
	const int64_t kept = local && tokens > m->window ? m->window : tokens;
	return per * ((double)(m->layers - local) * paged(tokens, page) + (double)local * paged(kept, page));
}

double plan_cache_budget(double mem, double weights, double reserve_frac)
{
	return mem - weights - reserve_frac * mem;
}

int64_t plan_max_tokens(double budget, double bytes_per_token)
{
	if (!(budget > 0) || !(bytes_per_token > 0))
		return 0;
	return (int64_t)floor(budget / bytes_per_token);
}

int64_t plan_max_sequences(double budget, double bytes_per_sequence)
{
	return plan_max_tokens(budget, bytes_per_sequence);
}

int64_t plan_longest_context(const plan_model *m, const char *kv, int64_t page, double budget, int64_t nseq)
{
	const int64_t most = (int64_t)1 << 40;
	if ((double)nseq * plan_seq_bytes(m, kv, most, page) <= budget)
		return -1;
	int64_t lo = 0, hi = most; /* lo fits, hi does not */
	while (hi - lo > 1) {
		const int64_t mid = lo + (hi - lo) / 2;
		if ((double)nseq * plan_seq_bytes(m, kv, mid, page) <= budget)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* ---- --lens ------------------------------------------------------------------ */

#define LENS_MOST ((int64_t)1 << 40)

/* "A-B" into lo, hi (1 <= A <= B <= 2^40). */
static int parse_range(const char *s, int64_t *lo, int64_t *hi)
{
	char a[32], b[32];
	const char *dash = strchr(s, '-');
	if (!dash || dash - s >= (long)sizeof a || strlen(dash + 1) >= sizeof b)
		return 0;
	memcpy(a, s, (size_t)(dash - s));
	a[dash - s] = 0;
	snprintf(b, sizeof b, "%s", dash + 1);
	return parse_i64(a, lo) && parse_i64(b, hi) && *lo >= 1 && *lo <= *hi && *hi <= LENS_MOST;
}

int plan_lens_parse(const char *dist, uint64_t seed, plan_lens *l, char *why, int why_len)
{
	memset(l, 0, sizeof *l);
	l->state = seed;
	if (!strncmp(dist, "uniform:", 8)) {
		l->kind = LENS_UNIFORM;
		if (parse_range(dist + 8, &l->lo, &l->hi))
			return 1;
		snprintf(why, (size_t)why_len, "uniform:LO-HI needs 1 <= LO <= HI <= 2^40 (e.g. uniform:128-8192)");
		return 0;
	}
	if (!strcmp(dist, "chat") || !strncmp(dist, "chat:", 5)) {
		l->kind = LENS_CHAT;
		l->lo = 1024;
		l->hi = 32768;
		if (!dist[4] || parse_range(dist + 5, &l->lo, &l->hi))
			return 1;
		snprintf(why, (size_t)why_len,
		         "chat:MEDIAN-MAX needs 1 <= MEDIAN <= MAX <= 2^40 (e.g. chat:1024-32768)");
		return 0;
	}
	l->kind = LENS_LIST;
	l->n = parse_i64_list(dist, l->list, PLAN_LENS_MAX_LIST);
	for (int i = 0; i < l->n; i++)
		if (l->list[i] < 1 || l->list[i] > LENS_MOST)
			l->n = -1;
	if (l->n >= 1)
		return 1;
	snprintf(why, (size_t)why_len,
	         "not a list of up to %d lengths in 1..2^40 (e.g. 1,16,17), uniform:LO-HI or chat[:MEDIAN-MAX]",
	         PLAN_LENS_MAX_LIST);
	return 0;
}

/* splitmix64: the stream of a seed, the same on every machine */
static uint64_t next_u64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

/* uniform in (0, 1) */
static double next_unit(uint64_t *s)
{
	return ((double)(next_u64(s) >> 11) + 0.5) / 9007199254740992.0;
}

int64_t plan_lens_next(plan_lens *l)
{
	switch (l->kind) {
	case LENS_UNIFORM:
		return l->lo + (int64_t)(next_u64(&l->state) % (uint64_t)(l->hi - l->lo + 1));
	case LENS_CHAT: {
		/* Box-Muller: a standard normal z, then median * e^z */
		const double u = next_unit(&l->state), v = next_unit(&l->state);
		const double z = sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
		const double x = round((double)l->lo * exp(z));
		return x < 1 ? 1 : x > (double)l->hi ? l->hi : (int64_t)x;
	}
	default: {
		const int64_t n = l->list[l->next];
		l->next = (l->next + 1) % l->n;
		return n;
	}
	}
}

plan_fill plan_fill_budget(const plan_model *m, const char *kv, int64_t page, double budget, plan_lens *l,
                           int64_t max_seqs)
{
	plan_fill f = {0};
	while (f.seqs < max_seqs) {
		const int64_t n = plan_lens_next(l);
		const double b = plan_seq_bytes(m, kv, n, page);
		if (f.bytes + b > budget)
			return f;
		f.seqs++;
		f.tokens += n;
		f.longest = n > f.longest ? n : f.longest;
		f.bytes += b;
		f.unpaged += plan_seq_bytes(m, kv, n, 0);
	}
	f.capped = 1;
	return f;
}
