"""Verification of generated chains: the same reward code RL training uses, plus safety checks."""
