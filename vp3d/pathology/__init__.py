"""What the disease and its treatment do to the model: the compression fracture
(``fracture``) and the kyphoplasty balloon (``kyphoplasty``).
"""
