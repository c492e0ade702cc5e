"""The notation table on page 1: symbols with one meaning across the whole face.

A face symbol takes its meaning from its derivation's ``notation`` or, failing
that, from here; the build fails when one symbol gets two meanings on the face
or none at all. Keys are the symbols' LaTeX, exactly as the formulas print them
(``to_latex(symbol)``). Entries here are the symbols several derivations share; a
symbol particular to one derivation belongs in that derivation's ``notation`` (it
is then printed on a "where" line under its formula). Add an entry as a new line;
never change a meaning without checking every derivation that relies on it.

:data:`KINDS` says what sort of object a shared symbol is. A face symbol that
takes its meaning from here must be of that sort: a vector called ``L`` or a
matrix called ``V`` is not the number of layers or the vocabulary size, and the
build says so instead of printing the wrong meaning.
"""

from __future__ import annotations

GLOSSARY: dict[str, str] = {
    # sizes and indices
    "n": "number of entries of a vector (outcomes, logits, keys)",
    "i": "an index (a component or a position)",
    "j": "an index of summation",
    "k": "an index of summation",
    "d": "model width (embedding dimension)",
    "d_{k}": "dimension of queries and keys",
    "d_{h}": "dimension of one attention head",
    "h": "number of attention heads",
    "h_{kv}": "number of key/value heads (grouped-query attention)",
    "L": "number of layers",
    "s": "sequence length (tokens per sequence)",
    "b": "batch size (sequences)",
    "V": "vocabulary size",
    # softmax and distributions
    "T": "softmax temperature",
    "z": "logits, a real vector of length n",
    "c": "a constant added to every entry",
    "p": "a probability distribution over n outcomes (the target)",
    "q": "a probability distribution over the same outcomes (the model)",
    "x": "a real number (the argument of a scalar function)",
    "y": "the target outcome (an index in 1..n)",
    "\\mu": "the probability that one trial succeeds (a question answered correctly, a sample"
    " passing)",
    # training
    "\\eta": "learning rate",
    "t": "a step or a position: an optimiser update, a token of a sequence or of a response",
    "D": "number of training tokens",
    "C": "training compute in FLOPs",
    "N": "number of model parameters (all of them, embeddings included)",
    "N_{\\mathrm{mat}}": "weight-matrix parameters: the matrices that multiply activations, LM"
    " head included, embedding lookup, norms and biases not (the N of FLOP counts)",
    "N_{\\mathrm{ne}}": "non-embedding parameters (Kaplan et al. 2020): the layers' weight"
    " matrices, without embeddings, LM head, norms or biases",
    "d_{ff}": "MLP hidden width",
    "n_{\\mathrm{ff}}": "weight matrices per MLP: 2 (GELU) or 3 (SwiGLU)",
    "s_{\\mathrm{c}}": "tokens already in the KV cache when a decode step runs",
    "B_{\\mathrm{el}}": "bytes per stored element (fp32 4, bf16/fp16 2, fp8 1)",
    "[\\mathrm{bias}]": "1 when the projections have bias vectors, else 0",
    "F_{\\mathrm{fwd}}": "FLOPs of a forward pass over b sequences of s tokens (2 per"
    " multiply-accumulate of every matrix product)",
    "\\beta": "strength of the KL penalty (RLHF, DPO)",
    "\\boldsymbol{\\theta}": "the model's parameters (a vector)",
    "\\epsilon": "a small positive constant that keeps a denominator away from zero",
    # positions and attention vectors
    "\\mathbf{q}": "a query vector",
    "\\mathbf{k}": "a key vector",
    "\\mathrm{pos}": "a token position (an integer in practice; the identities hold for any real)",
    "\\mathrm{pos}'": "a second token position",
}

# What sort of object each shared symbol is: "size" (an integer count), "index" (an integer),
# "real" (a real number; a size is one too), "vector" (entries z_i), "matrix".
KINDS: dict[str, str] = {
    "n": "size", "i": "index", "j": "index", "k": "index", "d": "size", "d_{k}": "size",
    "d_{h}": "size", "h": "size", "h_{kv}": "size", "L": "size", "s": "size", "b": "size",
    "V": "size", "T": "real", "z": "vector", "c": "real", "p": "vector", "q": "vector",
    "x": "real", "y": "index", "\\eta": "real", "D": "real", "C": "real", "N": "real",
    "N_{\\mathrm{mat}}": "real", "N_{\\mathrm{ne}}": "real", "d_{ff}": "size",
    "s_{\\mathrm{c}}": "size", "B_{\\mathrm{el}}": "real", "\\beta": "real", "t": "index",
}
