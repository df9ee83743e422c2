"""The pages that put several apps together, above them all: the top bar's sections, each role's home
page (工作台), the team board and the portal's home. No app imports this package; it may import any."""
