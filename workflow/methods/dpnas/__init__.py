"""DP-NAS (Mundt, Pliushch & Ramesh, CVPR-W 2021): Q-learning search over random-weight CNN encoders ("deep
priors"), scored by a linear classifier trained on their fixed embeddings; hypotheses 2 (no initialisation
lottery) and 3 (full training helps little for good priors); export of a prior's embeddings.

Modules: :mod:`netstring` (net strings), :mod:`space` (states, transitions, feasibility), :mod:`encoder`
(random-weight encoder), :mod:`scoring` (cached embeddings + linear classifier), :mod:`qlearning` (agent),
:mod:`search` (resumable search loop), :mod:`hypotheses` (select / resample / full training), :mod:`export`,
:mod:`tables` (torch-free: buffer reader, hypotheses columns, summary; for the collect job).
"""
