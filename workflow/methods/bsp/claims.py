"""BSP's claim for the claims table (workflow.claims.all_claims adds CLAIMS): it forgets less than plain
fine-tuning. Torch-free: the claims job imports it."""

from __future__ import annotations

from ...claims import ICIFAR, Claim, forgets_less

PAPER_VALUE = ("no number here: side-tuning's table of its baselines (BSP among them) was not available "
               "(reference brief 1.6); its BSP started from a base pretrained with contexts, not shipped")

CLAIMS: list[Claim] = [
    Claim("bsp", "BSP forgets less than plain fine-tuning", forgets_less("bsp", "finetune"), ("bsp", "finetune"),
          ICIFAR, PAPER_VALUE, strict=True),
]
