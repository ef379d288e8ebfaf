"""The translated rich menus: drawn per language (draw.py, fonts.py), defined as LINE objects
(menus.py), made to match on LINE (sync.py), shown per user (links.py); `python -m bot richmenu`."""
