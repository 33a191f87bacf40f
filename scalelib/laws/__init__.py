"""The laws: one module per law, each defining one :class:`~scalelib.interfaces.Law`.

Eq. 2 (:mod:`~scalelib.laws.direct_law`), Eq. 6 (:mod:`~scalelib.laws.saturating_law`),
Eq. 1 (:mod:`~scalelib.laws.bnsl`), Eq. 4 (:mod:`~scalelib.laws.ratio_law`) and Eq. 5
(:mod:`~scalelib.laws.pass_at_k_law`), listed in :data:`scalelib.laws.registry.LAWS`;
the two-stage route (:mod:`~scalelib.laws.loss_law`, the maps of
:mod:`~scalelib.laws.loss_to_accuracy`, :mod:`~scalelib.laws.two_stage`) and the shared
fitting machinery (:mod:`~scalelib.laws.profile_fit`). A new law goes in a module here and
into the registry.
"""
