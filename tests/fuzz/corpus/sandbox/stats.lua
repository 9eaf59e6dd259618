local x = {1, 2, 3, 4, 5}
return stats.mean(x), stats.std(x), stats.quantile(x, 0.3), stats.linreg(x, {2, 4, 6, 8, 11}).slope
