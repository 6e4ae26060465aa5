"""Tools on top of every face: the quantisers, the benches' helpers and the settings-table generator."""
