"""The assignment's contract, clause by clause, with the test cells that check each clause and
the catalogued bugs that break it (and so prove the test cells catch it).

tests/test_contract.py keeps this table honest: every name the notebook asks students to write
is covered by a clause, every clause names test cells and bugs that exist, every bug loses
points in the clause's part (tests/test_catalogue.py grades them), and every test cell checks
some clause. A new function, method or answer without a clause fails that test.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Clause:
    part: str  # the grade-id part: test-<part>-...
    names: tuple  # the public names the clause is about
    text: str
    cells: tuple  # grade ids of the test cells that check it
    bugs: tuple  # catalogue bugs that break it


def clause(part, names, text, cells, bugs):
    return Clause(part, tuple(names.split()), text, tuple(cells.split()), tuple(bugs.split()))


CLAUSES = [
    # -- Part 1 -----------------------------------------------------------------------------
    clause(
        "softmax",
        "softmax",
        "softmax(x, axis=-1) normalises along any axis of an array of any rank",
        "test-softmax-basics",
        "softmax_fixed_axis",
    ),
    clause(
        "softmax",
        "softmax",
        "no overflow for logits as large as 1e4 (subtract the maximum)",
        "test-softmax-stability",
        "softmax_no_max_shift",
    ),
    clause("softmax", "softmax", "float32 in, float32 out", "test-softmax-stability", "softmax_upcasts_float32"),
    clause(
        "softmax",
        "softmax",
        "a slice that is entirely -inf gives zeros, not NaN",
        "test-softmax-masked-rows",
        "softmax_nan_on_masked_rows",
    ),
    clause(
        "sdpa",
        "scaled_dot_product_attention",
        "returns the pair (output, weights)",
        "test-sdpa-worked-example",
        "sdpa_returns_weights_first",
    ),
    clause(
        "sdpa",
        "scaled_dot_product_attention",
        "scores are Q K^T / sqrt(d_k), d_k the last axis of Q",
        "test-sdpa-worked-example test-sdpa-batched",
        "sdpa_no_scale sdpa_divides_by_d_k sdpa_scales_by_key_count",
    ),
    clause(
        "sdpa",
        "scaled_dot_product_attention",
        "the softmax runs over the keys (the last axis)",
        "test-sdpa-worked-example test-sdpa-batched",
        "sdpa_softmax_over_queries",
    ),
    clause(
        "sdpa",
        "scaled_dot_product_attention",
        "shapes (..., L, d_k), (..., S, d_k), (..., S, d_v); leading dimensions broadcast",
        "test-sdpa-batched",
        "sdpa_transposes_all_axes",
    ),
    clause(
        "sdpa",
        "scaled_dot_product_attention",
        "float32 inputs give float32 output and weights",
        "test-sdpa-dtype test-sdpa-mask",
        "sdpa_upcasts_float32",
    ),
    clause(
        "sdpa",
        "scaled_dot_product_attention",
        "mask broadcastable to (..., L, S), boolean or 0/1; True (1) may attend; a blocked key weighs 0",
        "test-sdpa-mask",
        "sdpa_inverted_mask sdpa_multiplies_scores_by_mask sdpa_mask_after_softmax",
    ),
    clause(
        "sdpa",
        "scaled_dot_product_attention",
        "a query with every key blocked gets zero weights and output",
        "test-sdpa-fully-masked",
        "sdpa_fills_minus_1e9 sdpa_inline_softmax_nan",
    ),
    clause(
        "sdpa",
        "ScaledDotProductAttention ScaledDotProductAttention.forward",
        "the layer returns the output alone, or (output, weights) with return_attention_weights=True",
        "test-sdpa-layer",
        "sdpa_layer_always_returns_tuple sdpa_layer_returns_weights_by_default",
    ),
    clause(
        "sdpa",
        "ScaledDotProductAttention",
        "__call__ passes query, key, value, mask and the flag to forward",
        "test-sdpa-layer",
        "sdpa_layer_call_drops_flag sdpa_layer_call_swaps_key_and_value",
    ),
    clause(
        "sdpa",
        "ScaledDotProductAttention ScaledDotProductAttention.forward",
        "the layer follows the function's mask convention, fully blocked queries included",
        "test-sdpa-layer",
        "sdpa_layer_masks_itself",
    ),
    # -- Part 2 -----------------------------------------------------------------------------
    clause(
        "mask",
        "create_causal_mask",
        "a boolean (seq_len, seq_len) lower triangle, diagonal included",
        "test-mask-causal",
        "causal_mask_upper_triangle causal_mask_without_diagonal causal_mask_float",
    ),
    clause(
        "mask",
        "create_padding_mask",
        "boolean (B, 1, 1, max_len), [b, 0, 0, j] True exactly when j < lengths[b]",
        "test-mask-padding test-mask-combined",
        "padding_mask_off_by_one padding_mask_without_broadcast_axes",
    ),
    clause(
        "mask",
        "create_padding_mask",
        "ValueError for a length below 0 or above max_len; 0 and max_len allowed",
        "test-mask-padding-errors",
        "padding_mask_clips_lengths",
    ),
    # -- Part 3 -----------------------------------------------------------------------------
    clause(
        "heads",
        "previous_token_projections",
        "(W_q, W_k), each (seq_len, d); with X = I and a causal mask, every query i >= 1 puts more than "
        "0.9 of its weight on key i - 1, for any seq_len",
        "test-heads-previous-token test-heads-long-sequences",
        "heads_wrong_direction heads_current_token heads_fixed_strength heads_forgets_the_scale",
    ),
    # -- Part 4 -----------------------------------------------------------------------------
    clause(
        "mha",
        "MultiHeadAttention",
        "MultiHeadAttention(embed_dim, num_heads, seed=None): ValueError unless embed_dim % num_heads == 0; "
        "stores embed_dim, num_heads, head_dim; one head is allowed",
        "test-mha-init test-mha-heads",
        "mha_rejects_one_head",
    ),
    clause(
        "mha",
        "MultiHeadAttention",
        "four float64 (E, E) weights from default_rng(seed): same seed same weights, another seed other "
        "weights, each matrix different, scaled by 1/sqrt(E)",
        "test-mha-init",
        "mha_ignores_seed mha_seed_only_for_w_q mha_one_matrix_for_all mha_unscaled_weights",
    ),
    clause(
        "mha",
        "MultiHeadAttention.forward",
        "forward/__call__(query, key, value, mask=None, return_attention_weights=False): (B, L, E) output, "
        "(B, H, L, S) weights with the flag; queries, keys and values projected from their own arguments",
        "test-mha-shapes test-mha-heads",
        "mha_call_drops_flag mha_values_from_key",
    ),
    clause(
        "mha",
        "MultiHeadAttention.forward",
        "head h uses columns h*D:(h+1)*D of each projection, heads merged in order, then W_o; weights are "
        "read from the attributes at call time; scores scaled by sqrt(head_dim)",
        "test-mha-heads",
        "mha_interleaved_heads mha_reshape_without_transpose mha_no_output_projection "
        "mha_projections_kept_from_init mha_own_attention_scales_by_embed_dim",
    ),
    clause(
        "mha",
        "MultiHeadAttention.forward",
        "masks broadcastable to (B, H, L, S); a query with every key blocked gets zero weights and output",
        "test-mha-masks",
        "mha_ignores_mask mha_own_attention_fills_minus_1e9",
    ),
    # -- Part 5 -----------------------------------------------------------------------------
    clause(
        "kvcache",
        "KVCache KVCache.append KVCache.__len__ KVCache.reset",
        "KVCache(max_seq_len, num_heads, head_dim, batch_size=1, dtype=float64): append returns every cached "
        "key and value in order, in the cache's dtype; len counts positions; reset empties",
        "test-kvcache-append",
        "kvcache_len_is_capacity kvcache_reset_does_nothing kvcache_values_keep_their_dtype",
    ),
    clause(
        "kvcache",
        "KVCache.append",
        "append copies: later changes to the caller's arrays do not reach the cache",
        "test-kvcache-copy",
        "kvcache_keeps_references",
    ),
    clause(
        "kvcache",
        "KVCache.append",
        "ValueError when the new tokens do not fit (the cache unchanged) or shapes do not match",
        "test-kvcache-errors",
        "kvcache_overflow_corrupts_length kvcache_no_overflow_check kvcache_no_shape_checks",
    ),
    clause(
        "kvcache",
        "MultiHeadAttention.decode_step",
        "decode_step(x_new, cache): token by token, or a prompt then chunks, equals the full causal pass "
        "(a bottom-right aligned causal mask over the cache)",
        "test-kvcache-decode test-kvcache-prefill",
        "decode_top_left_mask decode_without_mask decode_position_after_append decode_keys_from_w_q",
    ),
    # -- Part 6 -----------------------------------------------------------------------------
    clause(
        "memory",
        "attention_matrix_bytes",
        "B * H * N^2 * itemsize, float32 by default",
        "test-memory-attention-bytes",
        "memory_scores_forget_heads memory_itemsize_always_4 memory_hard_coded_visible_numbers",
    ),
    clause(
        "memory",
        "kv_cache_bytes",
        "2 * layers * B * H * N * head_dim * itemsize, float16 by default",
        "test-memory-kv-bytes",
        "memory_kv_forgets_values",
    ),
    clause(
        "memory",
        "max_seq_len_for_budget",
        "the largest N whose score matrix fits the budget (0 if none)",
        "test-memory-budget",
        "memory_budget_rounds_up",
    ),
    clause(
        "memory",
        "fit_scaling_exponent",
        "the least-squares slope of log(cost) against log(size)",
        "test-memory-exponent",
        "memory_exponent_from_endpoints memory_exponent_mixed_logs",
    ),
    clause("memory", "ANSWER_MEMORY_RATIO_SEQ_DOUBLED", "4", "test-memory-answer-ratio", "answer_ratio_linear"),
    clause("memory", "ANSWER_GPT2_SMALL_SCORES_MIB", "48 MiB", "test-memory-answer-gpt2", "answer_in_megabytes"),
    clause("memory", "ANSWER_LLAMA7B_KV_KIB_PER_TOKEN", "512 KiB", "test-memory-answer-llama", "answer_kv_keys_only"),
    # -- Part 7 -----------------------------------------------------------------------------
    clause(
        "tiled",
        "tiled_attention",
        "tiled_attention(Q, K, V, mask=None, block_size=64) returns scaled_dot_product_attention's output "
        "(float64 to 1e-10) for any block size, a last block shorter than the others, broadcast leading "
        "dimensions",
        "test-tiled-matches",
        "tiled_output_not_rescaled tiled_sum_not_rescaled tiled_drops_last_short_block",
    ),
    clause(
        "tiled",
        "tiled_attention",
        "masks as in Part 1; a query with every key blocked gets zeros",
        "test-tiled-masks",
        "tiled_nan_for_fully_masked_rows",
    ),
    clause(
        "tiled", "tiled_attention", "float32 in, float32 out (to 1e-5)", "test-tiled-float32", "tiled_upcasts_float32"
    ),
    clause(
        "tiled",
        "tiled_attention",
        "never builds an (L, S) array: at L = S = 2048, block 64, float64, head_dim 16, traced peak memory "
        "below a quarter of one L x S float64 matrix",
        "test-tiled-memory",
        "tiled_builds_the_full_matrix",
    ),
    clause(
        "tiled",
        "tiled_attention",
        "ValueError for block_size < 1",
        "test-tiled-block-size",
        "tiled_no_block_size_check",
    ),
    clause(
        "gqa",
        "MultiHeadAttention",
        "num_kv_heads defaults to num_heads; ValueError unless num_heads % num_kv_heads == 0; attribute "
        "num_kv_heads; W_q, W_o (E, E), W_k, W_v (E, num_kv_heads * head_dim)",
        "test-gqa-init",
        "gqa_full_width_keys gqa_no_divisibility_check mha_written_before_part_7",
    ),
    clause(
        "gqa",
        "MultiHeadAttention.forward",
        "query head h uses key/value head h // (num_heads // num_kv_heads); weights stay (B, num_heads, L, S)",
        "test-gqa-forward",
        "gqa_tile_instead_of_repeat",
    ),
    clause(
        "gqa",
        "MultiHeadAttention.decode_step",
        "decode_step with KVCache(max_seq_len, num_kv_heads, head_dim) equals the full causal pass",
        "test-gqa-decode",
        "gqa_cache_holds_repeated_heads",
    ),
    clause("gqa", "ANSWER_LLAMA2_70B_KV_KIB_PER_TOKEN", "320 KiB", "test-gqa-answer", "gqa_answer_without_grouping"),
    clause(
        "compute",
        "attention_flops",
        "4 * B * H * N^2 * head_dim (a multiply-add is 2 FLOPs)",
        "test-compute-flops",
        "compute_multiply_add_as_one compute_one_product",
    ),
    clause(
        "compute",
        "projection_flops",
        "8 * B * N * E^2: four projections",
        "test-compute-flops",
        "compute_three_projections",
    ),
    clause(
        "compute",
        "max_decode_tokens_per_second",
        "bandwidth / (weight bytes + KV cache bytes)",
        "test-compute-decode-bound",
        "compute_decode_forgets_the_cache",
    ),
    clause(
        "compute",
        "ANSWER_ATTENTION_PROJECTION_CROSSOVER_GPT2",
        "N = 2E = 1536",
        "test-compute-answer",
        "compute_crossover_at_embed_dim",
    ),
]
