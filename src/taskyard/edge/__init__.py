"""What sits between the network and the routers: request ids, limits, headers, metrics."""
