"""NumPy reference implementations of the quantities on the sheet.

Public, float64, vectorised, and written independently of the symbolic
derivations, so that the numeric checks compare two separate routes to the
same number. Only NumPy is imported.

>>> from llmsym.numeric import softmax
>>> softmax([0.0, 0.0]).tolist()
[0.5, 0.5]
"""

from __future__ import annotations

# Imported eagerly: a submodule shares its function's name (rope.rope), and a
# lazy import would leave the package attribute bound to the module.
from .activations import gelu, gelu_tanh, normal_cdf, sigmoid, silu
from .attention import attention, flash_attention, online_softmax
from .bayes import (
    beta_binomial_posterior,
    beta_pdf,
    binomial_likelihood,
    grid_posterior,
    laplace_rule,
)
from .calibration import (
    BrierDecomposition,
    brier_decomposition,
    brier_score,
    equal_width_bin,
    expected_calibration_error,
)
from .decoding import (
    beam_length_penalty,
    beam_score,
    greedy,
    min_p,
    temperature_distribution,
    top_k,
    top_p,
)
from .dpo import dpo_loss
from .embeddings import embedding_lookup, one_hot, one_hot_embedding, tied_output_logits
from .error_bars import (
    binomial_standard_error,
    paired_standard_error,
    pass_at_k,
    simulate_accuracies,
    simulate_pass_at_k,
    standard_error,
    zero_failure_upper_bound,
)
from .ffn import gelu_ffn, glu, swiglu_ffn
from .info import cosine_similarity, cross_entropy, entropy, kl_divergence
from .joint_info import conditional_entropy, joint_entropy, mutual_information
from .kernel_attention import (
    elu_feature_map,
    kernel_attention,
    linear_attention_parallel,
    linear_attention_recurrent,
    positive_random_features,
)
from .lowrank import (
    best_rank_approximation,
    lora_forward,
    lora_merged_weight,
    lora_trainable_parameters,
)
from .minibatch import (
    exact_minibatch_moments,
    expected_quadratic_loss_change,
    gradient_noise_scale,
    minibatch_gradient,
    minibatch_gradient_moments,
    per_example_covariance,
    sample_minibatch_gradients,
)
from .norms import layer_norm, residual_stream, residual_stream_vjp, rms_norm
from .position_shift import position_shift_matrix
from .positions import sinusoid_frequencies, sinusoidal_encoding
from .precision import (
    BF16,
    FP8_E4M3,
    FP8_E5M2,
    FP16,
    FP32,
    FP64,
    FloatFormat,
    FormatConstants,
    decode_bits,
    exact_sum,
    format_constants,
    kahan_sum,
    loss_scale_round_trip,
    naive_sum,
    numpy_format_constants,
    round_to_bfloat16,
    softmax_in_dtype,
)
from .rlhf import (
    discounted_returns,
    gae_discounted_sum,
    gae_recursive,
    kl_penalised_rewards,
    ppo_clipped_objective,
)
from .rope import rope
from .softmax import logsumexp, softmax
from .speculative import (
    simulate_tokens_per_call,
    speculative_acceptance_probability,
    speculative_output_distribution,
    speculative_sample,
)
from .tokenisation import (
    bits_per_byte_from_losses,
    bpe_encode,
    bytes_per_token,
    perplexity_per_unit,
    train_bpe,
)

__all__ = [
    "BF16",
    "FP8_E4M3",
    "FP8_E5M2",
    "FP16",
    "FP32",
    "FP64",
    "BrierDecomposition",
    "FloatFormat",
    "FormatConstants",
    "attention",
    "beam_length_penalty",
    "beam_score",
    "best_rank_approximation",
    "beta_binomial_posterior",
    "beta_pdf",
    "binomial_likelihood",
    "binomial_standard_error",
    "bits_per_byte_from_losses",
    "bpe_encode",
    "brier_decomposition",
    "brier_score",
    "bytes_per_token",
    "conditional_entropy",
    "cosine_similarity",
    "cross_entropy",
    "decode_bits",
    "discounted_returns",
    "dpo_loss",
    "elu_feature_map",
    "embedding_lookup",
    "entropy",
    "equal_width_bin",
    "exact_minibatch_moments",
    "exact_sum",
    "expected_calibration_error",
    "expected_quadratic_loss_change",
    "flash_attention",
    "format_constants",
    "gae_discounted_sum",
    "gae_recursive",
    "gelu",
    "gelu_ffn",
    "gelu_tanh",
    "glu",
    "gradient_noise_scale",
    "greedy",
    "grid_posterior",
    "joint_entropy",
    "kahan_sum",
    "kernel_attention",
    "kl_divergence",
    "kl_penalised_rewards",
    "laplace_rule",
    "layer_norm",
    "linear_attention_parallel",
    "linear_attention_recurrent",
    "logsumexp",
    "lora_forward",
    "lora_merged_weight",
    "lora_trainable_parameters",
    "loss_scale_round_trip",
    "min_p",
    "minibatch_gradient",
    "minibatch_gradient_moments",
    "mutual_information",
    "naive_sum",
    "normal_cdf",
    "numpy_format_constants",
    "one_hot",
    "one_hot_embedding",
    "online_softmax",
    "paired_standard_error",
    "pass_at_k",
    "per_example_covariance",
    "perplexity_per_unit",
    "position_shift_matrix",
    "positive_random_features",
    "ppo_clipped_objective",
    "residual_stream",
    "residual_stream_vjp",
    "rms_norm",
    "rope",
    "round_to_bfloat16",
    "sample_minibatch_gradients",
    "sigmoid",
    "silu",
    "simulate_accuracies",
    "simulate_pass_at_k",
    "simulate_tokens_per_call",
    "sinusoid_frequencies",
    "sinusoidal_encoding",
    "softmax",
    "softmax_in_dtype",
    "speculative_acceptance_probability",
    "speculative_output_distribution",
    "speculative_sample",
    "standard_error",
    "swiglu_ffn",
    "temperature_distribution",
    "tied_output_logits",
    "top_k",
    "top_p",
    "train_bpe",
    "zero_failure_upper_bound",
]
