"""What every other part stands on: errors, the push vocabulary, signing, the schema store
(with the contract's ``schemas/``), the journal and the one clock. No I/O beyond files."""
