//! pyre: Python `re` syntax parsed and compiled to regex-automata (to be written).
