"""orderflow's CrossGuard policy pack: the rules live in ``policy.rules``; ``__main__`` serves them."""
