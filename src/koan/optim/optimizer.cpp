// placeholder until the first optimizer lands
