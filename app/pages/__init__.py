"""One module per page; each has `render(dataset, selection)` and reads like a description of the screen."""
