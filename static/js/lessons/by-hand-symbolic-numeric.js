/** placeholder until the analysis endpoints land */
import { mountQuizzes } from "./quiz.js";

mountQuizzes();
