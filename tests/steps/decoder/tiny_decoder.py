"""What the tiny test decoder learns: two answers by heart, one grounded and one not."""

PLUS = "how much does the plus card cost?"
BASIC = "how much does the basic card cost?"
# The Plus answer carries a fee that is NOT in the graph (EUR 4.99): the guard must refuse it.
TARGETS = {PLUS: "The Plus card costs EUR 9.99 a month.", BASIC: "Our Basic card costs EUR 0 a month."}
