"""Losses on log-probabilities (docs/metrics.md, "SFT" and "DPO"), torch only.

Labels follow the Hugging Face convention: aligned with input_ids, -100
where no loss is taken; the shift by one happens here.
"""

from __future__ import annotations

from typing import Dict, Tuple

import torch
import torch.nn.functional as F

IGNORE = -100


def token_nll(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Per-token negative log-likelihood [B, T-1] (0 where masked) and the
    mask. Position t's logits predict label t+1: the labels move left by
    one (the last position has none) rather than the logits right, which
    saves copying the logits into a sliced tensor. Logits are upcast to
    float32 so that bf16 models keep their precision in the sum."""
    b, t, v = logits.shape
    target = torch.full_like(labels, IGNORE)
    target[:, :-1] = labels[:, 1:]
    nll = F.cross_entropy(logits.reshape(b * t, v).float(), target.reshape(-1), ignore_index=IGNORE,
                          reduction="none").view(b, t)[:, :-1]
    return nll, target[:, :-1] != IGNORE


def sequence_logps(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Summed log-probability of each row's labelled tokens [B] (TRL's
    get_batch_logps with average_log_prob=False)."""
    nll, _ = token_nll(logits, labels)
    return -nll.sum(dim=1)


def sft_nll(logits: torch.Tensor, labels: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Summed NLL over the labelled tokens of a batch and their count. The
    SFT loss is the sum over a step's micro-batches divided by the step's
    total count: the mean over every response token of the step."""
    nll, mask = token_nll(logits, labels)
    return nll.sum(), int(mask.sum())


def dpo_loss(policy_chosen: torch.Tensor, policy_rejected: torch.Tensor, ref_chosen: torch.Tensor, ref_rejected: torch.Tensor,
             beta: float, label_smoothing: float = 0.0) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Sigmoid DPO loss per pair and the detached rewards (docs/metrics.md, "DPO"):

        h    = (pc - pr) - (rc - rr)
        loss = -(1-eps) logsigmoid(beta h) - eps logsigmoid(-beta h)

    Returns (losses [B], chosen_rewards [B], rejected_rewards [B]) with
    reward = beta (policy - reference)."""
    h = (policy_chosen - policy_rejected) - (ref_chosen - ref_rejected)
    losses = -(1.0 - label_smoothing) * F.logsigmoid(beta * h) - label_smoothing * F.logsigmoid(-beta * h)
    chosen = beta * (policy_chosen - ref_chosen).detach()
    rejected = beta * (policy_rejected - ref_rejected).detach()
    return losses, chosen, rejected


METRICS = ("loss", "reward_chosen", "reward_rejected", "reward_margin", "reward_accuracy")


def dpo_metric_tensor(losses: torch.Tensor, chosen: torch.Tensor, rejected: torch.Tensor) -> torch.Tensor:
    """The batch means of METRICS as one device tensor [5], so that a step
    can sum its micro-batches' and read them back once."""
    return torch.stack([
        losses.detach().mean(),
        chosen.mean(),
        rejected.mean(),
        (chosen - rejected).mean(),
        (chosen > rejected).float().mean(),
    ])


def dpo_metrics(losses: torch.Tensor, chosen: torch.Tensor, rejected: torch.Tensor) -> Dict[str, float]:
    """Batch means of the logged DPO statistics (TRL's names without the
    rewards/ prefix): accuracy counts strict wins."""
    return dict(zip(METRICS, dpo_metric_tensor(losses, chosen, rejected).tolist()))
