"""Reproductions of the paper's experiments (Horel et al. 2018): ``simulation`` (section 3,
Figure 1) and ``credit`` (section 4, Figures 2-4 and Table 1). Run them as
``python -m nbexplain.reproduce credit [--data PATH]`` or from the notebooks in ``notebooks/``."""
