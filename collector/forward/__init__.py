"""The Forward output (`forward:` in the config): chunks, delivery with acks, failover."""
