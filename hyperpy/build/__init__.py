"""Host build pipeline: app -> WIT world -> component -> pkg/ -> zip; and the ABI check."""
