export { train, type TrainOptions, type TrainReporter } from './train';
export { quietReporter, consoleReporter } from './reporter';
export { brownCorpus, detokenizeBrown, textDocuments } from './data';
export { lineChartSvg } from './plot';
export { scoringModel } from './commands/eval';
