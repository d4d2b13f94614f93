officer_urls: list = []
public_urls: list = []
