"""Units (单元): blocks cut from streets, their residents, and the regions built from them."""
