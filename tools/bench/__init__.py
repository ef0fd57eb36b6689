"""`make bench`: the measurements behind the README's figures."""
