"""Authentication with a learned metric (MM'19 Sec. 3): pair sampling under a memory bound, SPRT decision
fusion, and the verification and attack scores built on them."""
