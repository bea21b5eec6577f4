"""The in-memory form of a matching problem, shared by eligibility, scoring and the solvers.

Applicants and postings are numbered 0..n-1 and 0..m-1 (their database ids are kept beside);
every candidate pair that passed the eligibility rules is an *edge*. Arrays, not objects: a
national run has a million applicants and a hundred million edges.

- `edge_score` is the combined, weighted score of the pair (an integer: points × 1000), the
  quantity the `optimal` solver maximises and every run reports.
- `applicant_utility` is how much the applicant would want the posting (wage, housing,
  preferred province …) and `posting_priority` how much the posting's side wants the
  applicant (skill fit, key groups, waiting time …): the two sides' preferences for the
  `stable` solver and for counting blocking pairs. Higher is better on every array.
- Ties are always broken by the smaller database id, so that the same input gives the same
  matches.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Instance:
    applicant_ids: np.ndarray  # int64, shape (n,): database ids, ascending
    posting_ids: np.ndarray  # int64, shape (m,): database ids, ascending
    capacity: np.ndarray  # int32, shape (m,): remaining positions (≥ 1)
    edge_applicant: np.ndarray  # int32, shape (k,): applicant index of each edge
    edge_posting: np.ndarray  # int32, shape (k,): posting index of each edge
    edge_score: np.ndarray  # int64, shape (k,): combined score × 1000
    applicant_utility: np.ndarray  # int64, shape (k,)
    posting_priority: np.ndarray  # int64, shape (k,)
    # per edge, the score's parts (name → int64 array), kept to explain each match
    breakdown: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n_applicants(self) -> int:
        return int(self.applicant_ids.shape[0])

    @property
    def n_postings(self) -> int:
        return int(self.posting_ids.shape[0])

    @property
    def n_edges(self) -> int:
        return int(self.edge_applicant.shape[0])


@dataclass
class Solution:
    """The chosen edges (indices into the instance's edge arrays, ascending) and figures."""

    edges: np.ndarray  # int64 edge indices
    total_score: int
    matched: int
    fill_rate: float  # matched / total remaining positions
    blocking_pairs: int
    timings: dict[str, float] = field(default_factory=dict)
